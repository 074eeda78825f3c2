using System.Globalization;

namespace CryoFlow.Pipeline.Stages.Extract.Watch;

/// <summary>
/// How long a live run keeps watching for new micrographs: until a time, until no new micrograph has come for an
/// idle period, or until a stop file appears, whichever comes first (none: until cancelled).
/// </summary>
/// <param name="PollInterval">time between polls</param>
/// <param name="Until">stop at this time</param>
/// <param name="Idle">stop when no new micrograph has come for this long</param>
/// <param name="StopFile">stop when this file exists</param>
public sealed record WatchOptions(TimeSpan PollInterval, DateTimeOffset? Until = null, TimeSpan? Idle = null, string? StopFile = null)
{
    /// <summary>Why to stop now, or null to go on.</summary>
    /// <param name="now">the time</param>
    /// <param name="lastNew">when the last new micrograph came (or the watch began)</param>
    public string? StopReason(DateTimeOffset now, DateTimeOffset lastNew)
    {
        if (StopFile is not null && File.Exists(StopFile)) return $"stop file {StopFile} appeared";
        if (Until is DateTimeOffset u && now >= u) return $"--watch-until {u.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture)} reached";
        if (Idle is TimeSpan i && now - lastNew >= i) return $"no new micrograph for {i}";
        return null;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the option that is out of range.</summary>
    public void Validate()
    {
        if (PollInterval <= TimeSpan.Zero) throw new ArgumentException($"--poll must be positive (found {PollInterval})");
        if (Idle is TimeSpan i && i <= TimeSpan.Zero) throw new ArgumentException($"--watch-idle must be positive (found {i})");
    }

    /// <summary>--watch-until: a time of day today or tomorrow (08:00), a date and time (2025-06-01T08:00), or a duration from now (8h, 90m, 3600s).</summary>
    public static DateTimeOffset ParseUntil(string text, DateTimeOffset now)
    {
        string t = text.Trim();
        if (t.Length > 1 && t[^1] is 'h' or 'm' or 's' && double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            return now + ParseDuration(t, "--watch-until");
        if (TimeSpan.TryParseExact(t, [@"hh\:mm", @"h\:mm", @"hh\:mm\:ss"], CultureInfo.InvariantCulture, out var clock))
        {
            var today = new DateTimeOffset(now.Date + clock, now.Offset);
            return today > now ? today : today.AddDays(1);
        }
        if (DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var when)) return when;
        throw new ArgumentException($"--watch-until: '{text}' is not a time (08:00), a date and time (2025-06-01T08:00) or a duration (8h, 90m, 3600s)");
    }

    /// <summary>A duration: 8h, 90m, 3600s, 1.5h; a bare number is minutes.</summary>
    public static TimeSpan ParseDuration(string text, string option)
    {
        string t = text.Trim().ToLowerInvariant();
        double Number(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 ? v
            : throw new ArgumentException($"{option}: '{text}' is not a duration such as 8h, 90m or 3600s");
        return t[^1] switch
        {
            'h' => TimeSpan.FromHours(Number(t[..^1])),
            'm' => TimeSpan.FromMinutes(Number(t[..^1])),
            's' => TimeSpan.FromSeconds(Number(t[..^1])),
            _ => TimeSpan.FromMinutes(Number(t)),
        };
    }
}
