using System.Globalization;
using CryoFlow.Formats.Errors;

namespace CryoFlow.Formats.Star;

/// <summary>A key/value pair of a STAR block (<c>_rlnLabel value</c>); the label has no underscore.</summary>
public readonly record struct StarPair(string Label, string Value, long? Line = null);

/// <summary>
/// One <c>data_NAME</c> block: key/value pairs, a loop, or both (pairs first, as RELION's model.star
/// and cryoLO's files have them). The name may be empty (<c>data_</c>).
/// </summary>
public sealed class StarBlock
{
    private readonly List<StarPair> _pairs = [];
    private string? _filePath;

    public StarBlock(string name, StarTable? loop = null)
    {
        if (name.Any(char.IsWhiteSpace)) throw new ArgumentException($"block name '{name}' contains whitespace", nameof(name));
        Name = name;
        if (loop is not null) Loop = loop;
    }

    /// <summary>The name after "data_"; may be empty.</summary>
    public string Name { get; }

    /// <summary>1-based line of the <c>data_</c> keyword, when read from a file.</summary>
    public long? Line { get; internal set; }

    public IReadOnlyList<StarPair> Pairs => _pairs;

    /// <summary>The block's loop, or null for a pairs-only block.</summary>
    public StarTable? Loop
    {
        get;
        set
        {
            field = value;
            if (value is not null)
            {
                value.BlockName = Name;
                value.FilePath = _filePath;
            }
        }
    }

    /// <summary>The file this block was read from, for messages.</summary>
    public string? FilePath
    {
        get => _filePath;
        internal set
        {
            _filePath = value;
            if (Loop is not null) Loop.FilePath = value;
        }
    }

    /// <summary>The loop, which must exist.</summary>
    public StarTable RequireLoop() => Loop ?? throw new StarFormatException(
        "block has no loop_ table", new DataLocation(FilePath: FilePath, Block: Name, Line: Line));

    public string? GetValue(string label)
    {
        label = StarTable.Normalize(label);
        foreach (var p in _pairs)
            if (p.Label == label) return p.Value;
        return null;
    }

    /// <summary>A pair's value as a number; a missing pair or a bad number is a <see cref="StarFormatException"/>.</summary>
    public double GetDouble(string label)
    {
        label = StarTable.Normalize(label);
        foreach (var p in _pairs)
        {
            if (p.Label != label) continue;
            if (double.TryParse(p.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) return v;
            throw new StarFormatException($"_{label} must be a number, not '{p.Value}'",
                new DataLocation(FilePath: FilePath, Block: Name, Line: p.Line, Field: label, Expected: "a number", Found: $"'{p.Value}'"));
        }
        throw new StarFormatException($"missing _{label}", new DataLocation(FilePath: FilePath, Block: Name, Line: Line, Field: label));
    }

    /// <summary>Sets a pair, replacing an existing one with the same label in place.</summary>
    public void SetValue(string label, string value)
    {
        label = StarTable.CheckLabel(label);
        StarTable.CheckValue(value);
        for (int i = 0; i < _pairs.Count; i++)
        {
            if (_pairs[i].Label != label) continue;
            _pairs[i] = _pairs[i] with { Value = value };
            return;
        }
        _pairs.Add(new StarPair(label, value));
    }

    internal void AddParsedPair(StarPair pair) => _pairs.Add(pair);

    internal bool HasPair(string label) => _pairs.Any(p => p.Label == label);

    /// <summary>A copy whose pairs and loop can be changed without touching this block.</summary>
    public StarBlock Clone(string? newName = null)
    {
        var b = new StarBlock(newName ?? Name, Loop?.Clone()) { Line = Line };
        b._pairs.AddRange(_pairs);
        b.FilePath = FilePath;
        return b;
    }
}
