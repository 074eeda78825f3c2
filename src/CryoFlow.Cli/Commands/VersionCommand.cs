using System.CommandLine;
using System.Reflection;

namespace CryoFlow.Cli.Commands;

/// <summary>`cryoflow version`: the version, runtime and FFT backend, for bug reports.</summary>
public static class VersionCommand
{
    public static string Version =>
        typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static Command Create(ConsoleIo io)
    {
        var command = new Command("version", "Print the CryoFlow version and runtime.");
        command.SetAction(_ =>
        {
            io.Out.WriteLine($"cryoflow {Version} (.NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription})");
            return ExitCodes.Ok;
        });
        return command;
    }
}
