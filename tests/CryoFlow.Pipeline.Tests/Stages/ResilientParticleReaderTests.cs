using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Particles;
using CryoFlow.Pipeline.Stages.Read;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace CryoFlow.Pipeline.Tests.Stages;

public class ResilientParticleReaderTests
{
    /// <summary>Fails the first N reads of each particle with the given exception, then returns the particle index as pixels.</summary>
    private sealed class FlakySource(int failures, Func<Exception> error) : IParticleImageSource
    {
        private readonly Dictionary<int, int> _calls = [];

        public int Calls(int index) { lock (_calls) return _calls.GetValueOrDefault(index); }

        public void Read(int index, Span<float> destination)
        {
            int n;
            lock (_calls) n = _calls[index] = _calls.GetValueOrDefault(index) + 1;
            if (n <= failures) throw error();
            destination.Fill(index);
        }
    }

    private sealed class ListSink : ILogEventSink
    {
        public List<LogEvent> Events { get; } = [];

        public void Emit(LogEvent e) { lock (Events) Events.Add(e); }
    }

    private static readonly ReadRetryOptions Fast = new(3, TimeSpan.FromMilliseconds(1));

    [Fact]
    public void TransientErrorsAreRetriedAndEachRetryIsLogged()
    {
        var sink = new ListSink();
        using var log = new LoggerConfiguration().WriteTo.Sink(sink).CreateLogger();
        var source = new FlakySource(2, () => new IOException("stale NFS handle"));
        var reader = new ResilientParticleReader(source, Fast, log);
        var buffer = new float[16];
        var outcome = reader.Read(5, buffer);
        Assert.True(outcome.Ok, outcome.Rejection);
        Assert.All(buffer, v => Assert.Equal(5, v));
        Assert.Equal(3, source.Calls(5));
        Assert.Equal(2, sink.Events.Count(e => e.Level == LogEventLevel.Warning && e.RenderMessage().Contains("stale NFS handle")));
    }

    [Fact]
    public void PersistentIoErrorsBecomeARejectionAfterTheRetries()
    {
        var source = new FlakySource(100, () => new IOException("device not ready"));
        var outcome = new ResilientParticleReader(source, Fast, Logger.None).Read(2, new float[4]);
        Assert.False(outcome.Ok);
        Assert.Contains("device not ready", outcome.Rejection);
        Assert.Equal(4, source.Calls(2)); // first try + 3 retries
    }

    [Fact]
    public void BadDataIsRejectedAtOnceWithItsMessage()
    {
        var source = new FlakySource(100, () => new MrcFormatException("image index past the end of the stack", new DataLocation(FilePath: "s.mrcs", Record: 9)));
        var outcome = new ResilientParticleReader(source, Fast, Logger.None).Read(9, new float[4]);
        Assert.False(outcome.Ok);
        Assert.Contains("s.mrcs", outcome.Rejection);
        Assert.Equal(1, source.Calls(9));
    }

    [Fact]
    public void MissingFilesAreNotRetried()
    {
        var source = new FlakySource(100, () => new FileNotFoundException("gone", "x.mrcs"));
        var outcome = new ResilientParticleReader(source, Fast, Logger.None).Read(1, new float[4]);
        Assert.False(outcome.Ok);
        Assert.Equal(1, source.Calls(1));
    }

    [Fact]
    public void NonFinitePixelsAreRejectedNamingThePixel()
    {
        var source = new NanSource();
        var outcome = new ResilientParticleReader(source, Fast, Logger.None).Read(3, new float[16]);
        Assert.False(outcome.Ok);
        Assert.Contains("pixel 6 (x 2, y 1)", outcome.Rejection);
        Assert.Contains("NaN", outcome.Rejection);
    }

    private sealed class NanSource : IParticleImageSource
    {
        public void Read(int index, Span<float> destination)
        {
            destination.Fill(1);
            destination[6] = float.NaN;
        }
    }
}
