using System.Text;

namespace CryoFlow.Formats.Star;

/// <summary>
/// Writes a STAR file whose last block is a loop of any length, one row at a time, with the same
/// layout and quoting as <see cref="StarWriter"/>: memory does not grow with the number of rows.
/// The file appears at its path only on <see cref="Complete"/> (written to a temporary sibling,
/// flushed to disk, renamed); disposing without completing deletes the temporary file and leaves
/// any previous file untouched.
/// </summary>
public sealed class StarStreamWriter : IDisposable
{
    private readonly string _path;
    private readonly string _tmp;
    private readonly FileStream _stream;
    private readonly StarSink _sink;
    private readonly int? _version;
    private int _columns = -1;
    private long _rows;
    private bool _done;

    private StarStreamWriter(string path, int? version)
    {
        _path = Path.GetFullPath(path);
        _tmp = Path.Combine(Path.GetDirectoryName(_path) ?? ".", $".{Path.GetFileName(_path)}.{Guid.NewGuid():N}.tmp");
        _stream = new FileStream(_tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        _sink = new StarSink(_stream);
        _version = version;
    }

    /// <param name="path">the final file</param>
    /// <param name="version">the `# version` line before each block (e.g. <see cref="StarVersions.Relion31"/>), or null</param>
    public static StarStreamWriter Create(string path, int? version) => new(path, version);

    /// <summary>Rows written to the open loop.</summary>
    public long RowCount => _rows;

    /// <summary>A whole block (pairs and its loop, if any), before the streamed loop.</summary>
    public void WriteBlock(StarBlock block)
    {
        if (_columns >= 0) throw new InvalidOperationException("the streamed loop is open; whole blocks must come before it");
        StarWriter.WriteBlock(_sink, block, _version);
    }

    /// <summary>Starts the final block, <c>data_NAME</c>, with a loop of these columns.</summary>
    public void BeginLoop(string blockName, IReadOnlyList<string> labels)
    {
        if (_columns >= 0) throw new InvalidOperationException("a loop is already open");
        if (labels.Count == 0) throw new ArgumentException("a loop needs at least one column", nameof(labels));
        StarWriter.WriteBlock(_sink, new StarBlock(blockName), _version);
        StarWriter.WriteLoopHeader(_sink, labels);
        _columns = labels.Count;
    }

    /// <summary>One row of the open loop; as many values as columns.</summary>
    public void WriteRow(ReadOnlySpan<string> values)
    {
        if (_columns < 0) throw new InvalidOperationException("BeginLoop first");
        if (values.Length != _columns) throw new ArgumentException($"row has {values.Length} values, the loop has {_columns} columns", nameof(values));
        for (int c = 0; c < values.Length; c++)
        {
            if (c > 0) _sink.Byte((byte)' ');
            StarWriter.WriteValue(_sink, Encoding.UTF8.GetBytes(values[c]));
        }
        _sink.Byte((byte)'\n');
        _rows++;
    }

    /// <summary>Ends the loop, flushes to disk and renames the file into place.</summary>
    public void Complete()
    {
        if (_done) throw new InvalidOperationException("already completed");
        if (_columns >= 0) _sink.Byte((byte)'\n');
        _sink.Flush();
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_tmp, _path, overwrite: true);
        _done = true;
    }

    public void Dispose()
    {
        if (_done) return;
        _stream.Dispose();
        try { File.Delete(_tmp); }
        catch (IOException) { /* best effort: the error that stopped the write is the one to report */ }
        catch (UnauthorizedAccessException) { }
        _done = true;
    }
}
