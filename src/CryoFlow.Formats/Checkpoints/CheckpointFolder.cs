using System.Globalization;
using System.Text.RegularExpressions;

namespace CryoFlow.Formats.Checkpoints;

/// <summary>One complete checkpoint: a folder of files named by the iteration it was taken after.</summary>
public sealed record CheckpointEntry(long Iteration, string Path)
{
    /// <summary>A file of the checkpoint.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);
}

/// <summary>A checkpoint being written: the files it creates are forced to disk before the folder is published.</summary>
public sealed class CheckpointDraft
{
    private readonly CheckpointFileSystem _fs;
    private readonly List<Stream> _files = [];

    internal CheckpointDraft(CheckpointFileSystem fs, string directory)
    {
        _fs = fs;
        Directory = directory;
    }

    /// <summary>The temporary folder; its files move with it.</summary>
    public string Directory { get; }

    /// <summary>A new file in the checkpoint (seekable); the folder closes it.</summary>
    public Stream Create(string fileName)
    {
        var stream = _fs.CreateFile(System.IO.Path.Combine(Directory, fileName));
        _files.Add(stream);
        return stream;
    }

    internal void FlushAndClose()
    {
        foreach (var file in _files) _fs.FlushToDisk(file);
        CloseAll();
    }

    internal void CloseAll()
    {
        foreach (var file in _files) file.Dispose();
        _files.Clear();
    }
}

/// <summary>
/// The checkpoints of a run (RUN/checkpoints): one folder per checkpoint, <c>ckpt-NNNNNNNN</c> by iteration. A
/// checkpoint is written into a hidden <c>.partial-*</c> folder, every file is forced to disk, the folder is synced and
/// then renamed to its final name, and the parent is synced; so a crash, a kill or a full disk at any instant leaves
/// every earlier checkpoint as it was, and a folder with a final name is complete. Partial folders are debris and are
/// deleted.
/// </summary>
public sealed partial class CheckpointFolder
{
    private const string PartialPrefix = ".partial-";
    private readonly CheckpointFileSystem _fs;

    /// <param name="root">RUN/checkpoints (created on the first write)</param>
    /// <param name="fileSystem">null: the real one</param>
    public CheckpointFolder(string root, CheckpointFileSystem? fileSystem = null)
    {
        Root = System.IO.Path.GetFullPath(root);
        _fs = fileSystem ?? CheckpointFileSystem.Real;
    }

    public string Root { get; }

    /// <summary>The folder name of the checkpoint after <paramref name="iteration"/>.</summary>
    public static string NameOf(long iteration) => "ckpt-" + iteration.ToString("D8", CultureInfo.InvariantCulture);

    /// <summary>The complete checkpoints, newest first (their contents are not read here).</summary>
    public IReadOnlyList<CheckpointEntry> List()
    {
        if (!System.IO.Directory.Exists(Root)) return [];
        var list = new List<CheckpointEntry>();
        foreach (string dir in System.IO.Directory.EnumerateDirectories(Root))
        {
            var m = FinalName().Match(System.IO.Path.GetFileName(dir));
            if (m.Success) list.Add(new CheckpointEntry(long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), dir));
        }
        return list.OrderByDescending(e => e.Iteration).ToList();
    }

    /// <summary>
    /// Writes the checkpoint after <paramref name="iteration"/>: <paramref name="write"/> creates its files in a draft,
    /// which is then made durable and published, replacing a checkpoint of the same iteration.
    /// </summary>
    /// <exception cref="CheckpointWriteException">anything failed (a full disk, a permission); the partial folder is
    /// removed and every earlier checkpoint is intact</exception>
    public CheckpointEntry Write(long iteration, Action<CheckpointDraft> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentOutOfRangeException.ThrowIfNegative(iteration);
        string final = System.IO.Path.Combine(Root, NameOf(iteration));
        string partial = System.IO.Path.Combine(Root, $"{PartialPrefix}{NameOf(iteration)}-{Guid.NewGuid():N}");
        CheckpointDraft? draft = null;
        bool published = false;
        try
        {
            DeletePartials();
            _fs.CreateDirectory(Root);
            _fs.CreateDirectory(partial);
            draft = new CheckpointDraft(_fs, partial);
            write(draft);
            draft.FlushAndClose();
            _fs.SyncDirectory(partial);
            string? replaced = null;
            if (System.IO.Directory.Exists(final))
            {
                replaced = System.IO.Path.Combine(Root, $"{PartialPrefix}old-{NameOf(iteration)}-{Guid.NewGuid():N}");
                _fs.MoveDirectory(final, replaced);
            }
            _fs.MoveDirectory(partial, final);
            published = true;
            _fs.SyncDirectory(Root);
            if (replaced is not null) TryDelete(replaced);
            return new CheckpointEntry(iteration, final);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            draft?.CloseAll();
            if (!published) TryDelete(partial);
            throw new CheckpointWriteException(iteration, final, List().FirstOrDefault(), e);
        }
        finally
        {
            draft?.CloseAll();
            if (!published) TryDelete(partial);
        }
    }

    /// <summary>Deletes all but the newest <paramref name="keep"/> checkpoints and those <paramref name="pinned"/>.</summary>
    /// <returns>the checkpoints deleted (a deletion that fails is left for the next prune)</returns>
    public IReadOnlyList<CheckpointEntry> Prune(int keep, Func<CheckpointEntry, bool>? pinned = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        var deleted = new List<CheckpointEntry>();
        foreach (var old in List().Skip(keep))
            if (pinned?.Invoke(old) != true && TryDelete(old.Path)) deleted.Add(old);
        return deleted;
    }

    /// <summary>Deletes the checkpoints after <paramref name="iteration"/> (a run rolled back or resumed from an earlier one).</summary>
    public IReadOnlyList<CheckpointEntry> DeleteAfter(long iteration)
    {
        var deleted = new List<CheckpointEntry>();
        foreach (var newer in List().Where(c => c.Iteration > iteration))
            if (TryDelete(newer.Path)) deleted.Add(newer);
        return deleted;
    }

    /// <summary>Removes the debris of checkpoints that were interrupted while being written.</summary>
    public void DeletePartials()
    {
        if (!System.IO.Directory.Exists(Root)) return;
        foreach (string dir in System.IO.Directory.EnumerateDirectories(Root, PartialPrefix + "*")) TryDelete(dir);
    }

    private bool TryDelete(string dir)
    {
        try
        {
            if (System.IO.Directory.Exists(dir)) _fs.DeleteDirectory(dir);
            return true;
        }
        catch (IOException)
        {
            return false; // debris: removed by a later write or prune
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^ckpt-(\d{8,})$")]
    private static partial Regex FinalName();
}

/// <summary>A checkpoint could not be written; the earlier ones are intact.</summary>
public sealed class CheckpointWriteException(long iteration, string path, CheckpointEntry? previous, Exception inner)
    : IOException(Compose(iteration, path, previous, inner), inner)
{
    /// <summary>The iteration whose checkpoint failed.</summary>
    public long Iteration { get; } = iteration;

    /// <summary>The newest checkpoint still on disk, if any.</summary>
    public CheckpointEntry? Previous { get; } = previous;

    private static string Compose(long iteration, string path, CheckpointEntry? previous, Exception inner) =>
        $"could not write the checkpoint after iteration {iteration} ({path}): {inner.Message}. " +
        (previous is null ? "No earlier checkpoint exists." : $"The previous checkpoint ({previous.Path}, iteration {previous.Iteration}) is intact.");
}
