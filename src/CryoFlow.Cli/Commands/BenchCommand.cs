using System.CommandLine;
using CryoFlow.Cli.Bench;
using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Likelihood;

namespace CryoFlow.Cli.Commands;

/// <summary>`cryoflow bench ...`: the measurements behind BENCHMARKS.md.</summary>
public static class BenchCommand
{
    public static Command Create(ConsoleIo io)
    {
        var bench = new Command("bench", "Measure CryoFlow's speed and memory (figures for BENCHMARKS.md).");
        bench.Subcommands.Add(CreateIo(io));
        bench.Subcommands.Add(CreateKernel(io));
        bench.Subcommands.Add(CreateFft(io));
        bench.Subcommands.Add(CreateState(io));
        bench.Subcommands.Add(SamplingBenchCommands.CreateAccuracy(io));
        bench.Subcommands.Add(SamplingBenchCommands.CreateStateSizes(io));
        return bench;
    }

    private static Command CreateKernel(ConsoleIo io)
    {
        var threads = new Option<int>("--threads") { Description = "Worker threads (one particle each).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var particles = new Option<int>("--particles") { Description = "Particles per repetition.", DefaultValueFactory = _ => 80 };
        var command = new Command("kernel", $"The likelihood kernel at D = {KernelBench.BoxSize}, r* = {KernelBench.Radius} px, {KernelBench.Directions} directions x {KernelBench.InPlaneAngles} in-plane angles x {KernelBench.Shifts} shifts: particles/s, GFLOP/s and the share of the measured FP32 peak.")
        {
            threads, particles,
        };
        command.SetAction(pr =>
        {
            var result = KernelBench.Run(pr.GetValue(threads), pr.GetValue(particles), line => io.Error.WriteLine(line));
            io.Out.WriteLine(result.ToString());
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateFft(ConsoleIo io)
    {
        var box = new Option<int>("--box") { Description = "Volume edge.", DefaultValueFactory = _ => 128 };
        var repeats = new Option<int>("--repeats") { DefaultValueFactory = _ => 5 };
        var command = new Command("fft", "One forward + inverse 3D FFT of a box^3 volume, for each available backend (best of --repeats).") { box, repeats };
        command.SetAction(pr =>
        {
            int d = pr.GetValue(box);
            foreach (var backend in new[] { FftBackends.Managed, FftBackends.Fftw }.OfType<IFftBackend>())
            {
                var plan = backend.Plan3D(d);
                var real = new float[plan.RealLength];
                var half = new float[plan.ComplexLength];
                for (int i = 0; i < real.Length; i++) real[i] = (i * 7919 % 1000) / 1000f;
                double best = double.MaxValue;
                for (int r = 0; r <= pr.GetValue(repeats); r++)
                {
                    var sw = System.Diagnostics.Stopwatch.StartNew();
                    plan.Forward(real, half);
                    plan.Inverse(half, real);
                    if (r > 0) best = Math.Min(best, sw.Elapsed.TotalMilliseconds); // the first pass warms up
                }
                io.Out.WriteLine(FormattableString.Invariant($"{backend.Name,-8} {d}^3 forward + inverse: {best:F1} ms"));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateState(ConsoleIo io)
    {
        var dir = new Option<DirectoryInfo>("--dir") { Description = "Folder for the store and its snapshot (deleted afterwards).", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(Path.GetTempPath(), "cryoflow-bench-state")) };
        var particles = new Option<long>("--particles") { DefaultValueFactory = _ => 100_000 };
        var bytes = new Option<int>("--record-bytes") { Description = "Mean record size. Measured importance-sampling records at box 64: ~1.5 KB after a sampled visit, 13 KB after a late full-grid visit, up to 60 KB unpruned (`bench is-state-sizes`, BENCHMARKS.md).", DefaultValueFactory = _ => 200 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("state", "The per-particle state store: put/get throughput, snapshot and open times, and memory (which must not grow with the particle count).")
        {
            dir, particles, bytes, threads,
        };
        command.SetAction(pr =>
        {
            string d = Path.Combine(pr.GetValue(dir)!.FullName, Guid.NewGuid().ToString("N")[..8]);
            try
            {
                io.Out.WriteLine(Formats.State.StateStoreBench.Run(d, pr.GetValue(particles), pr.GetValue(bytes), pr.GetValue(threads)).ToString());
            }
            finally
            {
                if (Directory.Exists(d)) Directory.Delete(d, recursive: true);
            }
            return ExitCodes.Ok;
        });
        return command;
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
