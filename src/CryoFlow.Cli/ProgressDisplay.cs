using System.Diagnostics;
using System.Globalization;

namespace CryoFlow.Cli;

/// <summary>
/// One self-overwriting progress line on stderr with rate and ETA, only when stderr is a terminal;
/// redirected output stays quiet (the log file has the details).
/// </summary>
public sealed class ProgressDisplay(string label, TextWriter error)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _live = !Console.IsErrorRedirected && ReferenceEquals(error, Console.Error);
    private long _lastTick = -1;

    public void Report(long done, long total)
    {
        if (!_live) return;
        long tick = _clock.ElapsedMilliseconds / 250;
        if (tick == _lastTick && done < total) return;
        _lastTick = tick;
        double s = _clock.Elapsed.TotalSeconds;
        double rate = s > 0 ? done / s : 0;
        string eta = rate > 0 ? TimeSpan.FromSeconds((total - done) / rate).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "--:--:--";
        error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{label}: {done}/{total} ({100.0 * done / total:F0}%), {rate:F0}/s, ETA {eta}   "));
        if (done >= total) error.WriteLine();
    }
}
