using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Particles;
using Polly;
using Polly.Retry;
using Serilog;

namespace CryoFlow.Pipeline.Stages.Read;

/// <summary>Retry settings for transient read errors (a flaky network file system, a busy disk).</summary>
/// <param name="MaxRetries">retries after the first failure</param>
/// <param name="FirstDelay">delay before the first retry; doubled each time, with jitter</param>
public sealed record ReadRetryOptions(int MaxRetries = 5, TimeSpan? FirstDelay = null)
{
    public TimeSpan Delay => FirstDelay ?? TimeSpan.FromMilliseconds(200);
}

/// <summary>The result of reading one particle: its pixels, or why it was rejected.</summary>
/// <param name="Index">particle index in the table</param>
/// <param name="Rejection">null when the pixels were read and are finite</param>
public readonly record struct ReadOutcome(int Index, string? Rejection)
{
    public bool Ok => Rejection is null;
}

/// <summary>
/// Reads particles through an <see cref="IParticleImageSource"/> with retries: I/O errors are
/// retried with exponential backoff (each retry logged with the particle and the error); a
/// particle whose data are bad (<see cref="CryoFlowDataException"/>: missing stack, index past the
/// end, wrong size; or non-finite pixels), or whose I/O still fails after the retries, becomes a
/// rejection carrying a message that names the file and the particle. Thread-safe.
/// </summary>
public sealed class ResilientParticleReader
{
    private readonly IParticleImageSource _source;
    private readonly ResiliencePipeline _retry;
    private readonly Func<int, string> _name;

    /// <param name="source">where the pixels come from</param>
    /// <param name="options">retry settings</param>
    /// <param name="log">receives one warning per retry</param>
    /// <param name="name">how a particle is named in messages (e.g. its rlnImageName); default "particle N"</param>
    public ResilientParticleReader(IParticleImageSource source, ReadRetryOptions options, ILogger log, Func<int, string>? name = null)
    {
        _source = source;
        _name = name ?? (i => $"particle {i}");
        _retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<IOException>(IsTransient),
                MaxRetryAttempts = options.MaxRetries,
                Delay = options.Delay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = args =>
                {
                    log.Warning("Read of {Particle} failed ({Error}); retry {Attempt} of {Max} in {Delay:F2} s",
                        args.Context.Properties.GetValue(ParticleKey, "?"), args.Outcome.Exception?.Message, args.AttemptNumber + 1, options.MaxRetries, args.RetryDelay.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    private static readonly ResiliencePropertyKey<string> ParticleKey = new("particle");

    /// <summary>A missing file or folder is not transient: retrying cannot make it appear.</summary>
    private static bool IsTransient(IOException e) => e is not FileNotFoundException and not DirectoryNotFoundException;

    /// <param name="index">particle index</param>
    /// <param name="destination">width * height floats</param>
    public ReadOutcome Read(int index, float[] destination)
    {
        var context = ResilienceContextPool.Shared.Get();
        context.Properties.Set(ParticleKey, _name(index));
        try
        {
            _retry.Execute(static (_, state) => state.Source.Read(state.Index, state.Destination), context, (Source: _source, Index: index, Destination: destination));
        }
        catch (CryoFlowDataException e)
        {
            return new ReadOutcome(index, e.Message);
        }
        catch (IOException e)
        {
            return new ReadOutcome(index, $"{_name(index)}: read failed after retries: {e.Message}");
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
        for (int i = 0; i < destination.Length; i++)
        {
            if (!float.IsFinite(destination[i]))
                return new ReadOutcome(index, $"{_name(index)}: pixel {i} (x {i % Side(destination.Length)}, y {i / Side(destination.Length)}) is {destination[i]}");
        }
        return new ReadOutcome(index, null);
    }

    private static int Side(int pixels) => Math.Max(1, (int)Math.Round(Math.Sqrt(pixels)));
}
