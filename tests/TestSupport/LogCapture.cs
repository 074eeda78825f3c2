using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace CryoFlow.TestSupport;

/// <summary>A Serilog logger whose events a test can read back.</summary>
public sealed class LogCapture : IDisposable
{
    private readonly Sink _sink = new();

    public LogCapture() => Logger = new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(_sink).CreateLogger();

    public Logger Logger { get; }

    public IReadOnlyList<LogEvent> Events => _sink.Events;

    /// <summary>Rendered messages at <paramref name="level"/> or above.</summary>
    public IReadOnlyList<string> Messages(LogEventLevel level = LogEventLevel.Verbose) =>
        Events.Where(e => e.Level >= level).Select(e => e.RenderMessage()).ToList();

    public void Dispose() => Logger.Dispose();

    private sealed class Sink : ILogEventSink
    {
        private readonly List<LogEvent> _events = [];

        public IReadOnlyList<LogEvent> Events
        {
            get { lock (_events) return [.. _events]; }
        }

        public void Emit(LogEvent logEvent)
        {
            lock (_events) _events.Add(logEvent);
        }
    }
}
