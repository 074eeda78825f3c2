using System.CommandLine;

namespace CryoFlow.Cli.Commands;

/// <summary>Every sub-command of the tool, in the order `--help` lists them.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All(ConsoleIo io)
    {
        yield return InspectCommand.Create(io);
        yield return DemoCommand.Create(io);
        yield return ExtractCommand.Create(io);
        yield return ReconstructCommand.Create(io);
        yield return RunRecipeCommand.Create(io);
        yield return SimulateCommand.Create(io);
        yield return FscCommand.Create(io);
        yield return ReportCommand.Create(io);
        yield return BenchCommand.Create(io);
        yield return VersionCommand.Create(io);
    }
}
