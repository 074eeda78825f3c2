namespace CryoFlow.Pipeline.Stages.Extract.Watch;

/// <summary>
/// Whether files have stopped changing: a file is stable when its size and modification time are the same at two
/// consecutive observations (polls), so a file still being copied or written is not used. Not thread-safe: one
/// poller.
/// </summary>
public sealed class FileStability
{
    private readonly Dictionary<string, Stamp> _seen = new(StringComparer.Ordinal);

    /// <summary>Size and modification time of a file.</summary>
    public readonly record struct Stamp(long Size, DateTime ModifiedUtc);

    /// <summary>The file's stamp now, or null when it does not exist.</summary>
    public static Stamp? StampOf(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new Stamp(info.Length, info.LastWriteTimeUtc) : null;
    }

    /// <summary>Records the file as it is now; true when it was the same at the previous observation.</summary>
    public bool Observe(string path) => Observe(path, out _);

    /// <param name="path">the file</param>
    /// <param name="stamp">its stamp now (default when it does not exist)</param>
    public bool Observe(string path, out Stamp stamp)
    {
        var now = StampOf(path);
        if (now is null)
        {
            _seen.Remove(path);
            stamp = default;
            return false;
        }
        stamp = now.Value;
        bool stable = _seen.TryGetValue(path, out var before) && before == stamp;
        _seen[path] = stamp;
        return stable;
    }

    /// <summary>Stops tracking a file (it has been used).</summary>
    public void Forget(string path) => _seen.Remove(path);
}
