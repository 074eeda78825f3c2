using System.Diagnostics.CodeAnalysis;
using System.Text;
using CryoFlow.Formats.Errors;
using Serilog;

namespace CryoFlow.Formats.Star;

/// <summary>
/// Reads STAR files the way RELION does (3dem/relion metadata_table.cpp readStar): several
/// <c>data_</c> blocks (names may be empty), key/value pairs and/or one <c>loop_</c> per block,
/// <c># version NNNNN</c>, comments (<c>#</c> or <c>;</c> lines, and a <c>#</c> token ending a row),
/// quoted values ('..' or "..", closed by a quote followed by whitespace, BEL-escaped quotes), a blank
/// line ending a loop. Unlike RELION it accepts CRLF and a byte-order mark, and it refuses, instead of
/// silently dropping, rows that follow the blank line that ended their loop.
/// Errors are <see cref="StarFormatException"/>s naming file, block, line and column.
/// </summary>
public static class StarReader
{
    public static StarDocument ReadFile(string path, ILogger? logger = null)
    {
        if (!File.Exists(path))
            throw new DataFileNotFoundException(path, [Path.GetFullPath(path)], new DataLocation(FilePath: path));
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Read(fs, path, logger);
    }

    /// <param name="stream">read to its end; not closed</param>
    /// <param name="sourcePath">the file name used in messages and for resolving relative paths</param>
    /// <param name="logger">warnings (e.g. conflicting version lines); default <c>Serilog.Log.Logger</c></param>
    public static StarDocument Read(Stream stream, string? sourcePath = null, ILogger? logger = null) =>
        new Parser(stream, sourcePath, logger ?? Log.Logger).Run();

    /// <summary>
    /// Reads a STAR file in one pass, handing the rows of one loop on one at a time instead of keeping them, so memory
    /// does not grow with that loop's length. At the loop's first row <paramref name="stream"/> is asked (with the document so far and the block,
    /// whose loop has its labels) whether to stream it; if so, <paramref name="onRow"/> gets the loop's table holding just
    /// that row (row 0; <see cref="StarTable.RecordBase"/> counts the rows before it, and messages name the row's line and
    /// record), and the row is dropped afterwards. Every other block is kept as <see cref="Read(Stream, string?, ILogger?)"/>
    /// keeps it; the streamed block keeps its labels and pairs with no rows.
    /// </summary>
    public static StarDocument ReadStreaming(string path, Func<StarDocument, StarBlock, bool> stream, Action<StarTable> onRow, ILogger? logger = null)
    {
        if (!File.Exists(path))
            throw new DataFileNotFoundException(path, [Path.GetFullPath(path)], new DataLocation(FilePath: path));
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return new Parser(fs, path, logger ?? Log.Logger) { StreamLoop = stream, OnStreamedRow = onRow }.Run();
    }

    /// <summary>Reads STAR text (tests, small inline tables).</summary>
    public static StarDocument Parse(string text, string? sourcePath = null, ILogger? logger = null)
    {
        using var ms = new MemoryStream(Encoding.UTF8.GetBytes(text));
        return Read(ms, sourcePath, logger);
    }

    internal static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or 0x0B or 0x0C;

    private enum State { Top, Block, Labels, Rows, AfterLoop }

    private sealed class Parser(Stream stream, string? path, ILogger logger)
    {
        private readonly Utf8LineReader _lines = new(stream);
        private readonly StarDocument _doc = new() { SourcePath = path };
        private State _state = State.Top;
        private StarBlock? _block;
        private StarTable? _table;
        private long _loopEndLine;
        private long _versionLine;

        // token scratch: start, length, and whether the token needs BEL-unescaping
        private int[] _starts = new int[64], _lengths = new int[64];
        private bool[] _escaped = new bool[64];
        private byte[] _unescape = new byte[256];
        private bool _streaming;

        public Func<StarDocument, StarBlock, bool>? StreamLoop { get; init; }

        public Action<StarTable>? OnStreamedRow { get; init; }

        public StarDocument Run()
        {
            while (_lines.TryReadLine(out var line))
            {
                int i = 0;
                while (i < line.Length && IsSpace(line[i])) i++;
                if (i == line.Length) { OnBlank(); continue; }
                var rest = line[i..];
                byte c = rest[0];
                if (c == (byte)'#') { OnComment(rest); continue; }
                if (c == (byte)';') continue;
                if (rest.StartsWith("data_"u8)) { OnData(rest); continue; }
                if (IsKeyword(rest, "loop_"u8)) { OnLoop(); continue; }
                if (c == (byte)'_') { OnLabel(rest); continue; }
                OnRow(line, i);
            }
            if (_doc.Blocks.Count == 0)
                throw new StarFormatException("no data_ block: the file is empty or holds only comments",
                    new DataLocation(FilePath: path, Line: _lines.LineNumber == 0 ? null : _lines.LineNumber, Expected: "a data_ block", Found: _lines.LineNumber == 0 ? "an empty file" : $"{_lines.LineNumber} lines without one"));
            return _doc;
        }

        private long Line => _lines.LineNumber;

        private static bool IsKeyword(ReadOnlySpan<byte> s, ReadOnlySpan<byte> word) =>
            s.StartsWith(word) && (s.Length == word.Length || IsSpace(s[word.Length]));

        private void OnBlank()
        {
            if (_state == State.Rows || (_state == State.Labels && _table!.ColumnCount > 0))
            {
                _state = State.AfterLoop;
                _loopEndLine = Line;
            }
        }

        private void OnComment(ReadOnlySpan<byte> s)
        {
            // "# version 30001"
            s = s[1..].TrimStart(" \t"u8);
            if (!s.StartsWith("version"u8)) return;
            s = s["version".Length..];
            if (s.Length == 0 || !IsSpace(s[0])) return;
            s = s.TrimStart(" \t"u8);
            int n = 0;
            while (n < s.Length && s[n] >= (byte)'0' && s[n] <= (byte)'9') n++;
            if (n == 0 || n > 9) return;
            int v = int.Parse(s[..n], provider: System.Globalization.CultureInfo.InvariantCulture);
            if (_doc.Version is null)
            {
                _doc.Version = v;
                _versionLine = Line;
            }
            else if (_doc.Version != v)
            {
                logger.Warning("{File}: line {Line} says '# version {Version}' but line {First} said {FirstVersion}; using {FirstVersion}",
                    path, Line, v, _versionLine, _doc.Version);
            }
        }

        private void OnData(ReadOnlySpan<byte> s)
        {
            int end = 5;
            while (end < s.Length && !IsSpace(s[end])) end++;
            string name = Encoding.UTF8.GetString(s[5..end]);
            _block = new StarBlock(name) { Line = Line };
            _streaming = false;
            _doc.Add(_block);
            _table = null;
            _state = State.Block;
        }

        private void OnLoop()
        {
            switch (_state)
            {
                case State.Top:
                    Fail("loop_ before any data_ block", null);
                    break;
                case State.Block when _block!.Loop is null:
                    _table = new StarTable { LoopLine = Line };
                    _block.Loop = _table;
                    _state = State.Labels;
                    break;
                default:
                    Fail($"a second loop_ in one block (the first starts at line {_block!.Loop!.LoopLine}); RELION allows one loop per data_ block", null);
                    break;
            }
        }

        private void OnLabel(ReadOnlySpan<byte> s)
        {
            int end = 1;
            while (end < s.Length && !IsSpace(s[end]) && s[end] != (byte)'#') end++;
            string label = Encoding.UTF8.GetString(s[1..end]);
            if (label.Length == 0) Fail("a lone '_' where a label was expected", null);
            switch (_state)
            {
                case State.Labels:
                    if (_table!.Contains(label))
                        Fail($"duplicate column _{label} (first at line {_table.LineOfColumn(_table.IndexOf(label))})", label, "distinct column labels", $"_{label} twice");
                    _table.AddColumn(label, "", Line);
                    break;
                case State.Block:
                case State.AfterLoop:
                    ReadPair(label, s, end);
                    break;
                case State.Rows:
                    Fail($"label _{label} after the loop's data rows; end the loop with a blank line or start a new data_ block", label);
                    break;
                default:
                    Fail($"label _{label} outside any data_ block", label);
                    break;
            }
        }

        private void ReadPair(string label, ReadOnlySpan<byte> s, int end)
        {
            if (_block!.HasPair(label))
                Fail($"duplicate key _{label} in one block", label, "distinct keys", $"_{label} twice");
            int n = Tokenize(s, end, 1, label);
            if (n == 0) Fail($"_{label} has no value", label, "a value", "end of line");
            if (n > 1) Fail($"_{label} has {n} values; quote a value that contains spaces", label, "one value", $"{n} values");
            string value = Encoding.UTF8.GetString(Token(s, 0));
            _block.AddParsedPair(new StarPair(label, value, Line));
        }

        private void OnRow(ReadOnlySpan<byte> line, int first)
        {
            switch (_state)
            {
                case State.Top:
                    Fail("text before the first data_ block", null);
                    break;
                case State.Block:
                    Fail("text that is neither a _label value pair nor a loop_", null);
                    break;
                case State.AfterLoop:
                    Fail($"data row after the blank line at line {_loopEndLine} that ended the loop (RELION stops reading a loop at the first blank line)", null);
                    break;
                case State.Labels:
                    if (_table!.ColumnCount == 0) Fail("loop_ without column labels", null);
                    _state = State.Rows;
                    _streaming = StreamLoop is not null && StreamLoop(_doc, _block!);
                    break;
            }
            var t = _table!;
            int ncol = t.ColumnCount;
            int n = Tokenize(line, first, ncol, null);
            if (n == 0) return; // only a trailing comment
            if (n != ncol)
            {
                if (n < ncol)
                    Fail($"row has {n} fields but the loop has {ncol} columns; first missing column _{t.Label(n)}", t.Label(n), $"{ncol} fields", $"{n}");
                Fail($"row has {n} fields but the loop has {ncol} columns (last column _{t.Label(ncol - 1)})", $"#{ncol + 1} (past the last column)", $"{ncol} fields", $"{n}");
            }
            for (int c = 0; c < ncol; c++)
                if (_lengths[c] > CellArena.MaxLength)
                    Fail($"a value of {_lengths[c]} bytes; STAR values are limited to {CellArena.MaxLength} bytes", t.Label(c));
            t.BeginRow(checked((int)Line));
            for (int c = 0; c < ncol; c++) t.SetParsedCell(c, Token(line, c));
            t.CommitRow();
            if (!_streaming) return;
            OnStreamedRow!(t);
            t.DropRows();
        }

        /// <summary>
        /// Splits <paramref name="s"/> from <paramref name="from"/> into tokens, up to a '#' token.
        /// Returns the number of tokens; the positions of the first <paramref name="keep"/> are kept for
        /// <see cref="Token"/>.
        /// </summary>
        private int Tokenize(ReadOnlySpan<byte> s, int from, int keep, string? pairLabel)
        {
            int n = 0, i = from;
            while (true)
            {
                while (i < s.Length && IsSpace(s[i])) i++;
                if (i >= s.Length || s[i] == (byte)'#') return n;
                int start, len;
                bool escaped = false;
                byte q = s[i];
                if (q == (byte)'"' || q == (byte)'\'')
                {
                    int j = i + 1;
                    while (true)
                    {
                        if (j >= s.Length)
                        {
                            string? col = pairLabel ?? (_table is not null && n < _table.ColumnCount ? _table.Label(n) : null);
                            Fail($"unterminated {(q == (byte)'"' ? "double" : "single")} quote starting at character {i + 1}", col, $"a closing {(char)q} followed by a space or the end of the line", "end of line");
                        }
                        if (s[j] == q)
                        {
                            if (s[j - 1] == 0x07 && j - 1 > i) escaped = true;
                            else if (j + 1 == s.Length || IsSpace(s[j + 1])) break;
                        }
                        j++;
                    }
                    start = i + 1;
                    len = j - start;
                    i = j + 1;
                }
                else
                {
                    start = i;
                    while (i < s.Length && !IsSpace(s[i])) i++;
                    len = i - start;
                }
                if (n < keep)
                {
                    EnsureScratch(n + 1);
                    _starts[n] = start;
                    _lengths[n] = len;
                    _escaped[n] = escaped;
                }
                n++;
            }
        }

        private void EnsureScratch(int n)
        {
            if (n <= _starts.Length) return;
            int size = Math.Max(n, _starts.Length * 2);
            Array.Resize(ref _starts, size);
            Array.Resize(ref _lengths, size);
            Array.Resize(ref _escaped, size);
        }

        /// <summary>Token <paramref name="k"/> of the last <see cref="Tokenize"/> call, BEL escapes removed.</summary>
        private ReadOnlySpan<byte> Token(ReadOnlySpan<byte> s, int k)
        {
            var raw = s.Slice(_starts[k], _lengths[k]);
            if (!_escaped[k]) return raw;
            if (_unescape.Length < raw.Length) _unescape = new byte[raw.Length * 2];
            int w = 0;
            for (int r = 0; r < raw.Length; r++)
            {
                if (raw[r] == 0x07 && r + 1 < raw.Length && raw[r + 1] is (byte)'"' or (byte)'\'') continue;
                _unescape[w++] = raw[r];
            }
            return _unescape.AsSpan(0, w);
        }

        [DoesNotReturn]
        private void Fail(string problem, string? field, string? expected = null, string? found = null) =>
            throw new StarFormatException(problem, new DataLocation(
                FilePath: path, Block: _block?.Name, Line: Line, Field: field, Expected: expected, Found: found));
    }
}
