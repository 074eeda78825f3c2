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
        bench.Subcommands.Add(CreateKnownPoses(io));
        bench.Subcommands.Add(CreatePoseError(io));
        return bench;
    }

    private static Command CreatePoseError(ConsoleIo io)
    {
        var truth = new Argument<FileInfo>("truth") { Description = "STAR file with the true poses (e.g. the simulation's particles.star)." };
        var estimate = new Argument<FileInfo>("estimate") { Description = "STAR file with estimated poses (e.g. RUN/particles.star)." };
        var command = new Command("pose-error",
            "Angular error of estimated poses against the true ones, after the best global rotation (and hand): did a run find the particles' orientations?")
        {
            truth, estimate,
        };
        command.SetAction(pr =>
        {
            var t = Formats.Particles.ParticleTable.Read(pr.GetValue(truth)!.FullName);
            var e = Formats.Particles.ParticleTable.Read(pr.GetValue(estimate)!.FullName);
            var byName = new Dictionary<string, Numerics.Geometry.Rotation3>(StringComparer.Ordinal);
            for (int i = 0; i < t.Count; i++)
                if (t[i].Pose is { } pose) byName[t[i].Image.ToImageName()] = pose.Angles.ToMatrix();
            var trueRotations = new List<Numerics.Geometry.Rotation3>();
            var estimated = new List<Numerics.Geometry.Rotation3>();
            for (int i = 0; i < e.Count; i++)
                if (e[i].Pose is { } pose && byName.TryGetValue(e[i].Image.ToImageName(), out var r))
                {
                    trueRotations.Add(r);
                    estimated.Add(pose.Angles.ToMatrix());
                }
            if (trueRotations.Count == 0)
            {
                io.Error.WriteLine($"cryoflow bench pose-error: no particle of {e.SourcePath} has a pose and an image name found in {t.SourcePath}");
                return ExitCodes.Usage;
            }
            var a = Numerics.Evaluation.PoseComparison.Compare(trueRotations, estimated);
            io.Out.WriteLine(FormattableString.Invariant(
                $"{a.Count} particles; {(a.Mirrored ? "mirrored" : "original")} hand; angular error after the best global rotation: median {a.Percentile(50):F1} deg, 10/25/75/90% {a.Percentile(10):F1}/{a.Percentile(25):F1}/{a.Percentile(75):F1}/{a.Percentile(90):F1} deg; within 5 deg {a.FractionWithin(5):P0}, within 10 deg {a.FractionWithin(10):P0}"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateKnownPoses(ConsoleIo io)
    {
        var particles = new Argument<FileInfo>("particles") { Description = "A STAR file with poses and CTFs (e.g. from `cryoflow simulate`)." };
        var truth = new Option<FileInfo>("--truth") { Description = "The map to compare with (the simulation's truth.mrc).", Required = true };
        var count = new Option<int>("--count") { Description = "The first this many particles.", DefaultValueFactory = _ => 2000 };
        var iterations = new Option<int>("--iterations") { Description = "Conjugate-gradient iterations (early stopping regularises).", DefaultValueFactory = _ => 6 };
        var nodes = new Option<string?>("--shift-nodes") { Description = "Comma-separated px values: snap each slice-frame shift component to the nearest (a shift grid's best case)." };
        var angle = new Option<double>("--angle-error") { Description = "Turn each pose by this many degrees about a random axis.", DefaultValueFactory = _ => 0 };
        var output = new Option<FileInfo?>("--out") { Description = "Write the map here." };
        var command = new Command("known-poses",
            "The map that the particles' own poses determine (least squares through CryoFlow's likelihood gradient), with the poses optionally snapped to a shift grid or turned: what a pose accuracy allows, apart from the search.")
        {
            particles, truth, count, iterations, nodes, angle, output,
        };
        command.SetAction(pr =>
        {
            double[]? shiftNodes = null;
            if (pr.GetValue(nodes) is string text)
            {
                try
                {
                    shiftNodes = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(t => double.Parse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                }
                catch (FormatException)
                {
                    io.Error.WriteLine($"cryoflow bench known-poses: --shift-nodes '{text}' is not a comma-separated list of numbers");
                    return ExitCodes.Usage;
                }
            }
            var table = Formats.Particles.ParticleTable.Read(pr.GetValue(particles)!.FullName);
            float[] reference;
            double voxel;
            using (var r = Formats.Mrc.MrcReader.OpenVolume(pr.GetValue(truth)!.FullName))
            {
                reference = r.ReadVolume();
                voxel = table[0].PixelSizeAngst ?? r.Header.VoxelSizeX ?? 1;
            }
            int box = (int)Math.Round(Math.Cbrt(reference.Length));
            var perturbation = new Pipeline.Evaluation.PosePerturbation(shiftNodes, pr.GetValue(angle));
            var map = Pipeline.Evaluation.KnownPoseReconstruction.Run(table, pr.GetValue(count), pr.GetValue(iterations), perturbation, (it, ll, v) =>
            {
                var fsc = Numerics.Evaluation.FourierShellCorrelation.Compute(reference, v, box, voxel);
                io.Error.WriteLine(FormattableString.Invariant($"iteration {it}: LL {ll:F1}, FSC 0.5 at {fsc.ResolutionAt(0.5):F2} Å, 0.143 at {fsc.ResolutionAt(0.143):F2} Å"));
            });
            var curve = Numerics.Evaluation.FourierShellCorrelation.Compute(reference, map, box, voxel);
            foreach (var s in curve.Shells) io.Out.WriteLine(FormattableString.Invariant($"{s.Shell,5} {s.Frequency,8:F4} {1 / s.Frequency,8:F2} {s.Correlation,8:F4}"));
            io.Out.WriteLine(FormattableString.Invariant($"resolution at FSC 0.5: {curve.ResolutionAt(0.5):F2} Å; at FSC 0.143: {curve.ResolutionAt(0.143):F2} Å"));
            if (pr.GetValue(output) is FileInfo file)
                Formats.Mrc.MrcWriter.WriteVolume(file.FullName, map, box, box, box, new Formats.Mrc.MrcWriterOptions { VoxelSize = voxel });
            return ExitCodes.Ok;
        });
        return command;
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
