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
    private readonly string? _path;
    private readonly string? _tmp;
    private readonly Stream _stream;
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

    /// <summary>Writes into a stream the caller owns (nothing atomic: <see cref="Complete"/> flushes it, disposing leaves it open).</summary>
    private StarStreamWriter(Stream stream, int? version)
    {
        _stream = stream;
        _sink = new StarSink(stream);
        _version = version;
    }

    internal static StarStreamWriter Create(Stream stream, int? version) => new(stream, version);

    /// <param name="path">the final file</param>
    /// <param name="version">the `# version` line before each block (e.g. <see cref="StarVersions.Relion31"/>), or null</param>
    public static StarStreamWriter Create(string path, int? version) => new(path, version);

    /// <summary>Rows written to the open loop.</summary>
    public long RowCount => _rows;

    /// <summary>A whole block (pairs and its loop, if any), before the streamed loop.</summary>
    public void WriteBlock(StarBlock block)
    {
        if (_columns >= 0) throw new InvalidOperationException("the streamed loop is open; end it before a whole block");
        StarWriter.WriteBlock(_sink, block, _version);
    }

    /// <summary>Starts the final block, <c>data_NAME</c>, with a loop of these columns.</summary>
    public void BeginLoop(string blockName, IReadOnlyList<string> labels) => BeginLoop(new StarBlock(blockName), labels);

    /// <summary>Starts a block with <paramref name="block"/>'s name and pairs (its loop, if any, is ignored) and a loop of these columns.</summary>
    public void BeginLoop(StarBlock block, IReadOnlyList<string> labels)
    {
        if (_columns >= 0) throw new InvalidOperationException("a loop is already open");
        if (labels.Count == 0) throw new ArgumentException("a loop needs at least one column", nameof(labels));
        var head = new StarBlock(block.Name);
        foreach (var p in block.Pairs) head.SetValue(p.Label, p.Value);
        StarWriter.WriteBlock(_sink, head, _version);
        StarWriter.WriteLoopHeader(_sink, labels);
        _columns = labels.Count;
        _cell = 0;
    }

    private int _cell;

    /// <summary>The next cell of the row being written (quoted as needed); <see cref="EndRow"/> after the last.</summary>
    internal void WriteCell(ReadOnlySpan<byte> value)
    {
        if (_columns < 0) throw new InvalidOperationException("BeginLoop first");
        if (_cell == _columns) throw new InvalidOperationException($"the loop has {_columns} columns");
        if (_cell > 0) _sink.Byte((byte)' ');
        StarWriter.WriteValue(_sink, value);
        _cell++;
    }

    internal void EndRow()
    {
        if (_cell != _columns) throw new InvalidOperationException($"row has {_cell} values, the loop has {_columns} columns");
        _sink.Byte((byte)'\n');
        _cell = 0;
        _rows++;
    }

    /// <summary>Ends the open loop, so that whole blocks may follow it.</summary>
    public void EndLoop()
    {
        if (_columns < 0) throw new InvalidOperationException("no loop is open");
        _sink.Byte((byte)'\n');
        _columns = -1;
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
        if (_path is not null)
        {
            ((FileStream)_stream).Flush(flushToDisk: true);
            _stream.Dispose();
            File.Move(_tmp!, _path, overwrite: true);
        }
        _done = true;
    }

    public void Dispose()
    {
        if (_done || _path is null) return;
        _stream.Dispose();
        try { File.Delete(_tmp!); }
        catch (IOException) { /* best effort: the error that stopped the write is the one to report */ }
        catch (UnauthorizedAccessException) { }
        _done = true;
    }
}
