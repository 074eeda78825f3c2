using System.Diagnostics;
using System.Globalization;
using CryoFlow.Formats.Mrc;

namespace CryoFlow.Cli.Bench;

/// <summary>What <see cref="IoBench.Run"/> measured. Rates are MB/s with MB = 10^6 bytes; null where a figure could
/// not be taken (cold cache without permission to drop caches, peak memory without /proc).</summary>
public sealed record IoBenchResult(
    string FilePath,
    long FileBytes,
    long Images,
    int BoxSize,
    bool WroteFile,
    double? WriteMBps,
    double CatWarmMBps,
    double? CatColdMBps,
    double SequentialWarmMBps,
    double? SequentialColdMBps,
    int RandomReads,
    double RandomWarmMBps,
    long? ResidentBeforeSequentialBytes,
    long? PeakResidentSequentialBytes)
{
    public double SequentialToCat => SequentialWarmMBps / CatWarmMBps;

    public double RandomToCat => RandomWarmMBps / CatWarmMBps;

    /// <summary>The figures as lines a person reads.</summary>
    public IEnumerable<string> Describe()
    {
        static string R(double? v) => v is double d ? d.ToString("F0", CultureInfo.InvariantCulture) + " MB/s" : "n/a";
        static string M(long? b) => b is long v ? (v / (1024.0 * 1024.0)).ToString("F1", CultureInfo.InvariantCulture) + " MiB" : "n/a";
        yield return FormattableString.Invariant($"file {FilePath}: {FileBytes / 1e9:F2} GB, {Images} images of {BoxSize}^2 float32{(WroteFile ? $", written at {R(WriteMBps)}" : ", reused")}");
        yield return $"cat > /dev/null        warm {R(CatWarmMBps)}, cold {R(CatColdMBps)}";
        yield return FormattableString.Invariant($"sequential (stream)   warm {R(SequentialWarmMBps)} ({SequentialToCat:F2} x cat), cold {R(SequentialColdMBps)}");
        yield return FormattableString.Invariant($"random access         warm {R(RandomWarmMBps)} ({RandomToCat:F2} x cat), {RandomReads} images in random order");
        yield return $"sequential pass peak resident memory {M(PeakResidentSequentialBytes)} (resident before the pass {M(ResidentBeforeSequentialBytes)})";
    }
}

/// <summary>
/// Measures MRC reading against <c>cat</c> on the same file: a synthetic float32 stack written by
/// <see cref="MrcWriter"/>, read whole by <see cref="MrcStreamReader"/> and at random by <see cref="MrcReader"/>,
/// with the peak resident memory of the sequential pass (which must not grow with the stack).
/// </summary>
public static class IoBench
{
    /// <param name="directory">where the stack lives; an existing one of the right size is reused</param>
    /// <param name="stackBytes">approximate stack size in bytes (rounded down to whole images, at least one)</param>
    /// <param name="boxSize">image edge in pixels</param>
    /// <param name="randomReads">images read in the random-access pass</param>
    /// <param name="seed">for the image contents and the random order</param>
    /// <param name="log">progress lines</param>
    public static IoBenchResult Run(string directory, long stackBytes, int boxSize, int randomReads, int seed, Action<string> log)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(boxSize, 2);
        ArgumentOutOfRangeException.ThrowIfNegative(randomReads);
        ArgumentNullException.ThrowIfNull(log);
        Directory.CreateDirectory(directory);

        long imageBytes = 4L * boxSize * boxSize;
        long images = Math.Clamp(stackBytes / imageBytes, 1, int.MaxValue);
        string path = Path.Combine(directory, $"cryoflow-iobench-{boxSize}x{images}.mrcs");
        long fileBytes = MrcHeader.MainHeaderSize + images * imageBytes;

        bool wrote = false;
        double? writeMBps = null;
        if (!IsUsable(path, boxSize, images, fileBytes))
        {
            log($"writing {path} ({fileBytes / 1e9:F2} GB)");
            var clock = Stopwatch.StartNew();
            WriteStack(path, boxSize, images, seed);
            writeMBps = fileBytes / 1e6 / clock.Elapsed.TotalSeconds;
            wrote = true;
        }
        else log($"reusing {path}");

        log("cat, warm-up pass");
        TimeCat(path);
        double catWarm = fileBytes / 1e6 / BestOf(WarmRepeats, () => TimeCat(path));
        log($"cat warm: {catWarm:F0} MB/s (best of {WarmRepeats})");

        // Cold = this machine's page cache dropped before the pass. A virtual disk may sit on a host cache that no
        // drop reaches, so one throwaway cold read first puts cat and the reader on the same footing.
        double? catCold = null, seqCold = null;
        if (TryDropCaches())
        {
            TimeCat(path);
            if (TryDropCaches()) catCold = fileBytes / 1e6 / TimeCat(path);
            if (TryDropCaches()) seqCold = fileBytes / 1e6 / TimeSequential(path, out _);
            log($"cold: cat {catCold:F0} MB/s, sequential {seqCold:F0} MB/s");
            TimeCat(path); // warm the cache again for the warm figures below
        }
        else log("cannot drop the page cache (needs root and a writable /proc/sys); cold figures skipped");

        // Warm sequential pass, with the peak resident memory of this pass alone.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        bool peakReset = TryResetPeakResident();
        long? before = peakReset ? ReadStatusKb("VmRSS") : null;
        double seqSeconds = TimeSequential(path, out long checksum);
        long? peak = peakReset ? ReadStatusKb("VmHWM") : null;
        seqSeconds = Math.Min(seqSeconds, BestOf(WarmRepeats - 1, () => TimeSequential(path, out _)));
        double seqWarm = fileBytes / 1e6 / seqSeconds;
        log($"sequential warm: {seqWarm:F0} MB/s (best of {WarmRepeats}, checksum {checksum})");

        double randomWarm = randomReads == 0 ? 0
            : randomReads * imageBytes / 1e6 / BestOf(WarmRepeats, () => TimeRandom(path, images, randomReads, seed));
        log($"random warm: {randomWarm:F0} MB/s (best of {WarmRepeats})");

        return new IoBenchResult(path, fileBytes, images, boxSize, wrote, writeMBps, catWarm, catCold, seqWarm, seqCold,
            randomReads, randomWarm, before * 1024, peak * 1024);
    }

    /// <summary>Warm figures are the best of this many passes: one short pass is at the mercy of the scheduler.</summary>
    private const int WarmRepeats = 3;

    private static double BestOf(int repeats, Func<double> seconds)
    {
        double best = double.PositiveInfinity;
        for (int i = 0; i < repeats; i++) best = Math.Min(best, seconds());
        return best;
    }

    private static bool IsUsable(string path, int boxSize, long images, long fileBytes)
    {
        if (!File.Exists(path) || new FileInfo(path).Length != fileBytes) return false;
        var h = MrcReader.ReadHeader(path);
        return h.Nx == boxSize && h.Ny == boxSize && h.Nz == images && h.Mode == MrcMode.Float32;
    }

    // One noise image, shifted by a different constant per image: realistic bytes without generating 10^9 randoms.
    private static void WriteStack(string path, int boxSize, long images, int seed)
    {
        var rng = new Random(seed);
        var baseImage = new float[boxSize * boxSize];
        for (int i = 0; i < baseImage.Length; i++) baseImage[i] = (float)(rng.NextDouble() * 2 - 1);
        var image = new float[baseImage.Length];
        using var writer = MrcWriter.CreateStack(path, boxSize, boxSize, new MrcWriterOptions { VoxelSize = 1.0, Label = "IoBench synthetic stack" });
        for (long k = 0; k < images; k++)
        {
            float shift = (k % 1000) * 1e-3f;
            for (int i = 0; i < image.Length; i++) image[i] = baseImage[i] + shift;
            writer.AppendImage(image);
        }
        writer.Complete();
    }

    private static double TimeCat(string path)
    {
        var clock = Stopwatch.StartNew();
        int rc = Shell("cat \"$1\" > /dev/null", path);
        clock.Stop();
        if (rc != 0) throw new IOException($"cat {path} exited with {rc}");
        return clock.Elapsed.TotalSeconds;
    }

    private static double TimeSequential(string path, out long checksum)
    {
        var clock = Stopwatch.StartNew();
        checksum = SequentialPass(path).GetAwaiter().GetResult();
        return clock.Elapsed.TotalSeconds;
    }

    private static async Task<long> SequentialPass(string path)
    {
        await using var reader = await MrcStreamReader.OpenAsync(path).ConfigureAwait(false);
        long sum = 0;
        await foreach (var image in reader.ReadAllAsync().ConfigureAwait(false))
            sum += BitConverter.SingleToInt32Bits(image.Pixels.Span[image.Pixels.Length / 2]);
        return sum;
    }

    private static double TimeRandom(string path, long images, int reads, int seed)
    {
        var rng = new Random(seed ^ 0x5EED);
        var order = new long[reads];
        for (int i = 0; i < reads; i++) order[i] = rng.NextInt64(images);
        using var reader = MrcReader.OpenStack(path);
        var buffer = new float[reader.PixelsPerImage];
        var clock = Stopwatch.StartNew();
        foreach (long index in order) reader.ReadImage(index, buffer);
        return clock.Elapsed.TotalSeconds;
    }

    private static bool TryDropCaches() => Shell("sync; echo 3 > /proc/sys/vm/drop_caches", null) == 0;

    /// <summary>Writing 5 to clear_refs resets VmHWM to the current resident size (Linux 4.0+).</summary>
    private static bool TryResetPeakResident()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long? ReadStatusKb(string key)
    {
        string status;
        try
        {
            status = File.ReadAllText("/proc/self/status");
        }
        catch (IOException)
        {
            return null;
        }
        foreach (string line in status.Split('\n'))
        {
            if (!line.StartsWith(key + ":", StringComparison.Ordinal)) continue;
            string[] parts = line[(key.Length + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length > 0 && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb)) return kb;
        }
        return null;
    }

    private static int Shell(string script, string? argument)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add("sh");
        if (argument is not null) psi.ArgumentList.Add(argument);
        using var p = Process.Start(psi) ?? throw new IOException("could not start /bin/sh");
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode;
    }
}
