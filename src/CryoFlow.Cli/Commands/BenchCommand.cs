using System.CommandLine;
using CryoFlow.Cli.Bench;

namespace CryoFlow.Cli.Commands;

/// <summary>`cryoflow bench ...`: the measurements behind BENCHMARKS.md.</summary>
public static class BenchCommand
{
    public static Command Create(ConsoleIo io)
    {
        var bench = new Command("bench", "Measure CryoFlow's speed and memory (figures for BENCHMARKS.md).");
        bench.Subcommands.Add(CreateIo(io));
        return bench;
    }

    private static Command CreateIo(ConsoleIo io)
    {
        var dir = new Option<DirectoryInfo>("--dir") { Description = "Folder for the synthetic stack (reused when present).", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(Path.GetTempPath(), "cryoflow-bench")) };
        var sizeGb = new Option<double>("--size-gb") { Description = "Stack size in GB (10^9 bytes).", DefaultValueFactory = _ => 2.0 };
        var box = new Option<int>("--box") { Description = "Image edge in pixels.", DefaultValueFactory = _ => 256 };
        var randomReads = new Option<int>("--random-reads") { Description = "Images read in random order.", DefaultValueFactory = _ => 2000 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var keep = new Option<bool>("--keep") { Description = "Keep the stack afterwards." };
        var command = new Command("io", "MRC stack reads, sequential and random, against `cat FILE > /dev/null`, and the peak memory of a sequential pass.")
        {
            dir, sizeGb, box, randomReads, seed, keep,
        };
        command.SetAction(pr =>
        {
            var d = pr.GetValue(dir)!;
            var result = IoBench.Run(d.FullName, (long)(pr.GetValue(sizeGb) * 1e9), pr.GetValue(box), pr.GetValue(randomReads), pr.GetValue(seed),
                line => io.Error.WriteLine(line));
            foreach (string line in result.Describe()) io.Out.WriteLine(line);
            if (!pr.GetValue(keep)) File.Delete(result.FilePath);
            return ExitCodes.Ok;
        });
        return command;
    }
}
