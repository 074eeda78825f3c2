using System.Text.Json;
using System.Text.Json.Serialization;

namespace CryoFlow.Pipeline.Output;

/// <summary>One line of RUN/metrics.jsonl: how an iteration went.</summary>
public sealed record IterationMetrics
{
    public required long Iteration { get; init; }
    /// <summary>Seconds since the run (or the first run of a resumed one) started.</summary>
    public required double WallSeconds { get; init; }
    /// <summary>1/Å.</summary>
    public required double MaxFrequency { get; init; }
    /// <summary>Å, 1 / MaxFrequency.</summary>
    public double Resolution => 1 / MaxFrequency;
    public required double Lipschitz { get; init; }
    public required double StepSize { get; init; }
    /// <summary>Minibatch objective: mean negative log-likelihood per image plus the prior term.</summary>
    public required double Objective { get; init; }
    public double? TestNll { get; init; }
    public double? TestRremse { get; init; }
    /// <summary>Fraction of the full quadrature evaluated this iteration (1 for exhaustive), overall and per factor.</summary>
    public required double QuadratureFraction { get; init; }
    public double? DirectionFraction { get; init; }
    public double? InPlaneFraction { get; init; }
    public double? ShiftFraction { get; init; }
    public required double ParticlesPerSecond { get; init; }
    /// <summary>Bytes, the process's resident set.</summary>
    public required long ResidentBytes { get; init; }
    /// <summary>Bytes, the managed heap after the last garbage collection (part of the resident set).</summary>
    public long? ManagedHeapBytes { get; init; }
    public int Rejected { get; init; }
    /// <summary>Particles in the run (a live run's pool grows).</summary>
    public int? Particles { get; init; }
    /// <summary>Particles in the minibatches (the rest of a live run's pool joins at the next epoch).</summary>
    public int? TrainingParticles { get; init; }
}

/// <summary>
/// Writes <see cref="IterationMetrics"/> to RUN/metrics.jsonl, one JSON object per line, flushed each time. A new run
/// starts the file afresh; a resumed run first cuts it back to the length it had at the checkpoint
/// (<see cref="Truncate"/>), so every iteration appears once.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly StreamWriter _writer;

    /// <param name="path">RUN/metrics.jsonl</param>
    /// <param name="append">continue the file (a resumed run, after <see cref="Truncate"/>); false: start it empty</param>
    public MetricsLog(string path, bool append = false)
    {
        _writer = new StreamWriter(new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read)) { NewLine = "\n" };
    }

    /// <summary>Bytes in the file so far (everything appended is flushed): a checkpoint's position in the file.</summary>
    public long Length => _writer.BaseStream.Position;

    public void Append(IterationMetrics metrics)
    {
        _writer.WriteLine(JsonSerializer.Serialize(metrics, Json));
        _writer.Flush();
    }

    /// <summary>Cuts the file back to <paramref name="length"/> bytes (a checkpoint's <see cref="Length"/>).</summary>
    /// <returns>whether the file was longer (lines of iterations after the checkpoint were removed)</returns>
    /// <exception cref="InvalidDataException">the file is shorter than the checkpoint says (it was edited or replaced)</exception>
    public static bool Truncate(string path, long length)
    {
        using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        if (stream.Length < length)
            throw new InvalidDataException($"{path} has {stream.Length} bytes, fewer than the {length} it had at the checkpoint");
        if (stream.Length == length) return false;
        stream.SetLength(length);
        return true;
    }

    /// <summary>Reads a metrics file back (for reports and tests), also while a run is still appending to it.</summary>
    public static IReadOnlyList<IterationMetrics> Read(string path)
    {
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        var lines = new List<IterationMetrics>();
        while (reader.ReadLine() is string line)
            if (line.Length > 0) lines.Add(JsonSerializer.Deserialize<IterationMetrics>(line, Json)!);
        return lines;
    }

    public void Dispose() => _writer.Dispose();
}
