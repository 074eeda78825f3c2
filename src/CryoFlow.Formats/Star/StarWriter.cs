using System.Text;

namespace CryoFlow.Formats.Star;

/// <summary>
/// Writes STAR text as RELION reads it: <c># version NNNNN</c> before each block when the document
/// has a version, <c>data_NAME</c>, pairs as <c>_label value</c>, loops as <c>loop_</c> then
/// <c>_label #n</c> lines then one row per line with no blank line inside, a blank line after each
/// block. Values that are empty or hold whitespace (or start like a quote, comment, label or keyword)
/// are quoted; a quote that would close the value early is BEL-escaped as RELION does. Always LF.
/// </summary>
public static class StarWriter
{
    /// <summary>Writes to a temporary file and renames it over <paramref name="path"/>.</summary>
    public static void WriteFile(StarDocument document, string path) => AtomicFile.Write(path, s => Write(document, s));

    public static void Write(StarDocument document, Stream stream)
    {
        var o = new StarSink(stream);
        foreach (var block in document.Blocks) WriteBlock(o, block, document.Version);
        o.Flush();
    }

    public static string WriteToString(StarDocument document)
    {
        using var ms = new MemoryStream();
        Write(document, ms);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    internal static void WriteBlock(StarSink o, StarBlock block, int? version)
    {
        if (version is int v)
        {
            o.Ascii("# version ");
            o.Ascii(v.ToString(System.Globalization.CultureInfo.InvariantCulture));
            o.Ascii("\n\n");
        }
        o.Ascii("data_");
        o.Utf8(block.Name);
        o.Ascii("\n\n");
        foreach (var p in block.Pairs)
        {
            o.Byte((byte)'_');
            o.Utf8(p.Label);
            o.Byte((byte)' ');
            WriteValue(o, Encoding.UTF8.GetBytes(p.Value));
            o.Byte((byte)'\n');
        }
        if (block.Pairs.Count > 0) o.Byte((byte)'\n');
        if (block.Loop is { } t) WriteLoop(o, t);
    }

    private static void WriteLoop(StarSink o, StarTable t)
    {
        if (t.ColumnCount == 0 && t.RowCount > 0)
            throw new InvalidOperationException($"table of data_{t.BlockName} has rows but no columns");
        WriteLoopHeader(o, t.Labels);
        var cols = t.Columns;
        for (int r = 0; r < t.RowCount; r++)
        {
            for (int c = 0; c < cols.Count; c++)
            {
                if (c > 0) o.Byte((byte)' ');
                WriteValue(o, cols[c].Get(r));
            }
            o.Byte((byte)'\n');
        }
        o.Byte((byte)'\n');
    }

    internal static void WriteLoopHeader(StarSink o, IReadOnlyList<string> labels)
    {
        o.Ascii("loop_\n");
        for (int c = 0; c < labels.Count; c++)
        {
            o.Byte((byte)'_');
            o.Utf8(labels[c]);
            o.Ascii(" #");
            o.Ascii((c + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            o.Byte((byte)'\n');
        }
    }

    internal static bool NeedsQuotes(ReadOnlySpan<byte> v)
    {
        if (v.Length == 0) return true;
        if (v[0] is (byte)'"' or (byte)'\'' or (byte)'#' or (byte)';' or (byte)'_') return true;
        if (v.StartsWith("data_"u8) || v.StartsWith("loop_"u8)) return true;
        foreach (byte b in v)
            if (StarReader.IsSpace(b)) return true;
        return false;
    }

    internal static void WriteValue(StarSink o, ReadOnlySpan<byte> v)
    {
        if (!NeedsQuotes(v))
        {
            o.Bytes(v);
            return;
        }
        byte q = v.IndexOf((byte)'"') < 0 ? (byte)'"' : v.IndexOf((byte)'\'') < 0 ? (byte)'\'' : (byte)'"';
        o.Byte(q);
        for (int r = 0; r < v.Length; r++)
        {
            // a quote followed by whitespace would end the value: RELION's escape is a BEL before it
            if (v[r] == q && r + 1 < v.Length && StarReader.IsSpace(v[r + 1])) o.Byte(0x07);
            o.Byte(v[r]);
        }
        o.Byte(q);
    }
}
