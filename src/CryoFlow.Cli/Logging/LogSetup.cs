using Serilog;
using Serilog.Events;

namespace CryoFlow.Cli.Logging;

/// <summary>
/// Serilog for a command: a quiet human console (warnings and errors unless --verbose) and, for
/// commands that own a run folder, a file there with everything at Debug and above.
/// </summary>
public static class LogSetup
{
    public static Serilog.Core.Logger Create(bool verbose, string? logFile = null)
    {
        var config = new LoggerConfiguration()
            .MinimumLevel.Debug()
            .WriteTo.Console(
                restrictedToMinimumLevel: verbose ? LogEventLevel.Information : LogEventLevel.Warning,
                outputTemplate: "{Timestamp:HH:mm:ss} {Level:u3} {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose);
        if (logFile is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
            config = config.WriteTo.File(logFile,
                outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff} {Level:u3} {Message:lj}{NewLine}{Exception}",
                flushToDiskInterval: TimeSpan.FromSeconds(2));
        }
        return config.CreateLogger();
    }
}
