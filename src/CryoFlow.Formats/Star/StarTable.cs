using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using CryoFlow.Formats.Errors;

namespace CryoFlow.Formats.Star;

/// <summary>
/// A STAR loop: named columns (labels without the leading underscore, e.g. "rlnImageName") and rows of
/// values kept as text, exactly as read. Cells are stored column by column as UTF-8 bytes in an arena
/// (no object per cell), so large particle tables cost about their file size. Typed accessors parse on
/// demand (invariant culture) and report bad values with file, block, line and column.
/// Not thread-safe for mutation; concurrent reads are fine.
/// </summary>
public sealed class StarTable
{
    internal sealed class Column(string label, ulong[] cells, CellArena arena, long? line)
    {
        public string Label { get; set; } = label;
        public ulong[] Cells { get; set; } = cells;
        public CellArena Arena { get; } = arena;
        public long? Line { get; } = line;

        /// <summary>The cell array belongs to another table: copy it before the first write.</summary>
        public bool Borrowed { get; set; }

        public ulong[] Writable()
        {
            if (Borrowed) { Cells = (ulong[])Cells.Clone(); Borrowed = false; }
            return Cells;
        }
        public ReadOnlySpan<byte> Get(int row) => Arena.Get(Cells[row]);
    }

    private readonly List<Column> _columns = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly CellArena _arena;
    private int[] _lines = [];
    private int _capacity;

    /// <summary>An empty table with the given column labels (leading underscores are dropped).</summary>
    public StarTable(params IEnumerable<string> labels)
    {
        _arena = new CellArena();
        foreach (string label in labels) AddColumn(label);
    }

    /// <summary>
    /// A table made of other tables' columns: the cell arrays are borrowed (copied on first write), so
    /// building a view of a 10^6-row table costs nothing.
    /// </summary>
    internal StarTable(IEnumerable<Column> columns, int rowCount, int[]? lines)
    {
        _arena = new CellArena();
        foreach (var c in columns)
        {
            if (c.Cells.Length < rowCount) throw new ArgumentException("column shorter than the table", nameof(columns));
            if (!_index.TryAdd(c.Label, _columns.Count)) throw new ArgumentException($"duplicate column {c.Label}", nameof(columns));
            _columns.Add(new Column(c.Label, c.Cells, c.Arena, c.Line) { Borrowed = true });
        }
        RowCount = rowCount;
        _capacity = rowCount; // a later AddRow grows (copies) the arrays instead of writing into shared ones
        _lines = lines ?? new int[rowCount];
    }

    public int RowCount { get; private set; }

    /// <summary>
    /// Rows that came before row 0: a loop read as a stream (<see cref="StarReader.ReadStreaming"/>) holds one row at a
    /// time, and its messages name the row's place in the whole loop.
    /// </summary>
    public long RecordBase { get; private set; }

    public int ColumnCount => _columns.Count;

    /// <summary>Column labels in file order, without the leading underscore.</summary>
    public IReadOnlyList<string> Labels => _columns.Select(c => c.Label).ToArray();

    /// <summary>The file this table was read from, for messages; null for tables built in memory.</summary>
    public string? FilePath { get; internal set; }

    /// <summary>The block (name without "data_") holding this table, for messages.</summary>
    public string? BlockName { get; internal set; }

    /// <summary>1-based line of the <c>loop_</c> keyword, when read from a file.</summary>
    public long? LoopLine { get; internal set; }

    internal IReadOnlyList<Column> Columns => _columns;

    public string Label(int col) => _columns[col].Label;

    /// <summary>Index of a column, or -1. A leading underscore in <paramref name="label"/> is ignored.</summary>
    public int IndexOf(string label) => _index.TryGetValue(Normalize(label), out int i) ? i : -1;

    public bool Contains(string label) => IndexOf(label) >= 0;

    /// <summary>Index of a column that must exist; a missing one is a <see cref="StarFormatException"/>.</summary>
    public int RequireColumn(string label, string? why = null)
    {
        int i = IndexOf(label);
        if (i < 0)
        {
            throw new StarFormatException(
                $"missing required column _{Normalize(label)}" + (why is null ? "" : $" ({why})"),
                new DataLocation(FilePath: FilePath, Block: BlockName, Line: LoopLine, Field: Normalize(label)));
        }
        return i;
    }

    /// <summary>1-based line a row was read from, or null for rows added in memory.</summary>
    public long? LineOf(int row)
    {
        CheckRow(row);
        return _lines[row] > 0 ? _lines[row] : null;
    }

    /// <summary>1-based line of a column's label, or null for columns added in memory.</summary>
    public long? LineOfColumn(int col) => _columns[col].Line;

    /// <summary>Where a cell is, for error messages built by higher layers.</summary>
    public DataLocation Where(int row, int col, string? expected = null, string? found = null) => new(
        FilePath: FilePath, Block: BlockName, Line: row >= 0 && row < RowCount && _lines[row] > 0 ? _lines[row] : null,
        Record: RecordBase + row, Field: col >= 0 && col < _columns.Count ? _columns[col].Label : null, Expected: expected, Found: found);

    // ---------------------------------------------------------------- reading cells

    /// <summary>The cell's raw UTF-8 bytes (quotes removed); valid until the table is changed.</summary>
    public ReadOnlySpan<byte> GetUtf8(int row, int col)
    {
        CheckRow(row);
        return _columns[col].Get(row);
    }

    public string GetString(int row, int col) => Encoding.UTF8.GetString(GetUtf8(row, col));

    public string GetString(int row, string label) => GetString(row, RequireColumn(label));

    public bool TryGetDouble(int row, int col, out double value) =>
        double.TryParse(GetUtf8(row, col), NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    /// <summary>The cell as a number (fixed or scientific, invariant culture).</summary>
    public double GetDouble(int row, int col)
    {
        if (TryGetDouble(row, col, out double v)) return v;
        ThrowNotA(row, col, "a number");
        return 0;
    }

    public double GetDouble(int row, string label) => GetDouble(row, RequireColumn(label));

    /// <summary>The cell as an integer; "3", "003" and "3.0" are accepted, "3.5" is not.</summary>
    public int GetInt32(int row, int col)
    {
        var s = GetUtf8(row, col);
        if (int.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out int i)) return i;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue)
            return (int)d;
        ThrowNotA(row, col, "an integer");
        return 0;
    }

    public int GetInt32(int row, string label) => GetInt32(row, RequireColumn(label));

    [DoesNotReturn]
    private void ThrowNotA(int row, int col, string what)
    {
        string found = GetString(row, col);
        throw new StarFormatException($"_{_columns[col].Label} must be {what}, not '{found}'", Where(row, col, what, $"'{found}'"));
    }

    // ---------------------------------------------------------------- changing the table

    /// <summary>Adds a column filled with <paramref name="fill"/>; returns its index.</summary>
    public int AddColumn(string label, string fill = "") => AddColumn(label, fill, null);

    internal int AddColumn(string label, string fill, long? line)
    {
        label = CheckLabel(label);
        if (_index.ContainsKey(label)) throw new ArgumentException($"column _{label} already exists", nameof(label));
        var cells = new ulong[_capacity];
        ulong h = _arena.Append(Utf8(fill));
        if (h != CellArena.Empty) cells.AsSpan(0, RowCount).Fill(h);
        _index[label] = _columns.Count;
        _columns.Add(new Column(label, cells, _arena, line));
        return _columns.Count - 1;
    }

    public void RemoveColumn(string label)
    {
        int i = IndexOf(label);
        if (i < 0) throw new ArgumentException($"no column _{Normalize(label)}", nameof(label));
        _columns.RemoveAt(i);
        Reindex();
    }

    /// <summary>Renames a column in place (same position, same values).</summary>
    public void RenameColumn(string from, string to)
    {
        int i = IndexOf(from);
        if (i < 0) throw new ArgumentException($"no column _{Normalize(from)}", nameof(from));
        to = CheckLabel(to);
        if (_index.TryGetValue(to, out int j) && j != i) throw new ArgumentException($"column _{to} already exists", nameof(to));
        _columns[i].Label = to;
        Reindex();
    }

    /// <summary>Appends a row; one value per column, in column order. Returns the row index.</summary>
    public int AddRow(params IReadOnlyList<string> values)
    {
        if (values.Count != _columns.Count)
            throw new ArgumentException($"row has {values.Count} values, the table has {_columns.Count} columns", nameof(values));
        foreach (string v in values) CheckValue(v);
        int row = BeginRow(0);
        for (int c = 0; c < values.Count; c++) _columns[c].Writable()[row] = _columns[c].Arena.Append(Utf8(values[c]));
        RowCount++;
        return row;
    }

    public void SetString(int row, int col, string value)
    {
        CheckRow(row);
        CheckValue(value);
        var c = _columns[col];
        c.Writable()[row] = c.Arena.Append(Utf8(value));
    }

    public void SetString(int row, string label, string value) => SetString(row, RequireColumn(label), value);

    /// <summary>Stores the shortest text that reads back as exactly <paramref name="value"/>.</summary>
    public void SetDouble(int row, int col, double value) => SetString(row, col, StarNumbers.Format(value));

    public void SetInt32(int row, int col, int value) => SetString(row, col, value.ToString(CultureInfo.InvariantCulture));

    /// <summary>An independent copy of the rows and columns (cell bytes are shared; they never change).</summary>
    public StarTable Clone()
    {
        var copy = new StarTable(_columns, RowCount, _lines.AsSpan(0, RowCount).ToArray())
        {
            FilePath = FilePath,
            BlockName = BlockName,
            LoopLine = LoopLine,
        };
        foreach (var c in copy._columns) c.Writable();
        return copy;
    }

    // ---------------------------------------------------------------- parser support

    /// <summary>Makes room for one more row and records its line; returns the new row's index.</summary>
    internal int BeginRow(int line)
    {
        if (RowCount == _capacity) Grow();
        _lines[RowCount] = line;
        return RowCount;
    }

    /// <summary>Stores a parsed cell of the row begun last; repeats of the cell above share its bytes.</summary>
    internal void SetParsedCell(int col, ReadOnlySpan<byte> value)
    {
        var c = _columns[col];
        int row = RowCount;
        if (row > 0)
        {
            ulong above = c.Cells[row - 1];
            if (c.Arena.Get(above).SequenceEqual(value)) { c.Writable()[row] = above; return; }
        }
        c.Writable()[row] = c.Arena.Append(value);
    }

    internal void CommitRow() => RowCount++;

    /// <summary>Drops every row (a streamed loop, after its row was handed on); the next row is record <see cref="RecordBase"/> + 1.</summary>
    internal void DropRows()
    {
        RecordBase += RowCount;
        RowCount = 0;
        _arena.Clear();
    }

    private void Grow()
    {
        int cap = Math.Max(16, _capacity * 2);
        Array.Resize(ref _lines, cap);
        foreach (var c in _columns)
        {
            var cells = c.Cells;
            Array.Resize(ref cells, cap);
            c.Cells = cells;
            c.Borrowed = false;
        }
        _capacity = cap;
    }

    private void Reindex()
    {
        _index.Clear();
        for (int i = 0; i < _columns.Count; i++) _index[_columns[i].Label] = i;
    }

    private void CheckRow(int row)
    {
        if ((uint)row >= (uint)RowCount) throw new ArgumentOutOfRangeException(nameof(row), $"row {row} of a table with {RowCount} rows");
    }

    internal static string Normalize(string label) => label.StartsWith('_') ? label[1..] : label;

    internal static string CheckLabel(string label)
    {
        label = Normalize(label);
        if (label.Length == 0 || label.Any(ch => char.IsWhiteSpace(ch) || ch == '#'))
            throw new ArgumentException($"'{label}' is not a valid STAR label", nameof(label));
        return label;
    }

    internal static void CheckValue(string value)
    {
        if (value.AsSpan().IndexOfAny('\n', '\r') >= 0)
            throw new ArgumentException("a STAR value cannot contain a line break", nameof(value));
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
