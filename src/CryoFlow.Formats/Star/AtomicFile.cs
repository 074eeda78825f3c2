namespace CryoFlow.Formats.Star;

/// <summary>
/// Writes a file through a temporary sibling that is flushed to disk and then renamed over the
/// target, so a crash or an exception never leaves a half-written target behind.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        bool moved = false;
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
            moved = true;
        }
        finally
        {
            if (!moved) TryDelete(tmp);
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { /* best effort: the original error is the one to report */ }
        catch (UnauthorizedAccessException) { }
    }
}
