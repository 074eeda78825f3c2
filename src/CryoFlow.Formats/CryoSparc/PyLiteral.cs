using System.Globalization;
using System.Text;
using CryoFlow.Formats.Errors;

namespace CryoFlow.Formats.CryoSparc;

/// <summary>
/// Parses the Python literal in a NumPy header: dicts, lists, tuples, strings ('..', "..", with
/// backslash escapes and an optional b/u prefix), integers, True, False, None. Nothing is evaluated.
/// Results: <c>Dictionary&lt;string, object?&gt;</c>, <c>List&lt;object?&gt;</c> (list),
/// <c>object?[]</c> (tuple), string, long, bool, null. Like Python, "(x)" is x and "(x,)" a tuple.
/// </summary>
internal sealed class PyLiteral
{
    private readonly string _s;
    private readonly string? _path;
    private readonly long _offset;
    private int _i;

    private PyLiteral(string s, string? path, long offset)
    {
        _s = s;
        _path = path;
        _offset = offset;
    }

    /// <param name="text">the literal</param>
    /// <param name="path">file, for messages</param>
    /// <param name="offset">byte offset of the text in the file, for messages</param>
    public static object? Parse(string text, string? path = null, long offset = 0)
    {
        var p = new PyLiteral(text, path, offset);
        object? v = p.Value(0);
        p.SkipSpace();
        if (p._i != text.Length) throw p.Fail("unexpected text after the literal");
        return v;
    }

    private object? Value(int depth)
    {
        if (depth > 32) throw Fail("nesting too deep");
        SkipSpace();
        if (_i >= _s.Length) throw Fail("unexpected end of the header");
        char c = _s[_i];
        switch (c)
        {
            case '{': return Dict(depth);
            case '[': return Sequence(']', depth);
            case '(':
                {
                    var (items, trailingComma) = Items(')', depth);
                    return items.Count == 1 && !trailingComma ? items[0] : items.ToArray();
                }
            case '\'' or '"': return Str();
            case 'b' or 'u' or 'B' or 'U' when _i + 1 < _s.Length && _s[_i + 1] is '\'' or '"':
                _i++;
                return Str();
        }
        if (c == '-' || c == '+' || char.IsAsciiDigit(c)) return Int();
        if (Word("True")) return true;
        if (Word("False")) return false;
        if (Word("None")) return null;
        throw Fail($"unexpected '{c}'");
    }

    private Dictionary<string, object?> Dict(int depth)
    {
        _i++; // {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (true)
        {
            SkipSpace();
            if (Eat('}')) return d;
            object? key = Value(depth + 1);
            if (key is not string k) throw Fail("dictionary keys must be strings");
            SkipSpace();
            if (!Eat(':')) throw Fail("expected ':'");
            d[k] = Value(depth + 1);
            SkipSpace();
            if (Eat('}')) return d;
            if (!Eat(',')) throw Fail("expected ',' or '}'");
        }
    }

    private List<object?> Sequence(char close, int depth) => Items(close, depth).Items;

    private (List<object?> Items, bool TrailingComma) Items(char close, int depth)
    {
        _i++; // opening bracket
        var items = new List<object?>();
        while (true)
        {
            SkipSpace();
            if (Eat(close)) return (items, items.Count > 0);
            items.Add(Value(depth + 1));
            SkipSpace();
            if (Eat(close)) return (items, false);
            if (!Eat(',')) throw Fail($"expected ',' or '{close}'");
        }
    }

    private string Str()
    {
        char q = _s[_i++];
        var sb = new StringBuilder();
        while (true)
        {
            if (_i >= _s.Length) throw Fail("unterminated string");
            char c = _s[_i++];
            if (c == q) return sb.ToString();
            if (c == '\n') throw Fail("line break inside a string");
            if (c != '\\') { sb.Append(c); continue; }
            if (_i >= _s.Length) throw Fail("unterminated string");
            char e = _s[_i++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '0': sb.Append('\0'); break;
                case '\\' or '\'' or '"': sb.Append(e); break;
                case 'x' when _i + 2 <= _s.Length && int.TryParse(_s.AsSpan(_i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int x):
                    sb.Append((char)x);
                    _i += 2;
                    break;
                default: sb.Append('\\').Append(e); break;
            }
        }
    }

    private long Int()
    {
        int start = _i;
        if (_s[_i] is '-' or '+') _i++;
        while (_i < _s.Length && char.IsAsciiDigit(_s[_i])) _i++;
        if (!long.TryParse(_s.AsSpan(start, _i - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
            throw Fail($"bad integer '{_s[start.._i]}'");
        if (_i < _s.Length && _s[_i] is 'L' or 'l') _i++; // Python 2 long
        return v;
    }

    private bool Word(string w)
    {
        if (string.CompareOrdinal(_s, _i, w, 0, w.Length) != 0) return false;
        int end = _i + w.Length;
        if (end < _s.Length && (char.IsAsciiLetterOrDigit(_s[end]) || _s[end] == '_')) return false;
        _i = end;
        return true;
    }

    private bool Eat(char c)
    {
        if (_i < _s.Length && _s[_i] == c) { _i++; return true; }
        return false;
    }

    private void SkipSpace()
    {
        while (_i < _s.Length && char.IsWhiteSpace(_s[_i])) _i++;
    }

    private CryoSparcFormatException Fail(string problem) => new(
        $"NumPy header is not a valid Python literal: {problem} at character {_i + 1}",
        new DataLocation(FilePath: _path, ByteOffset: _offset + _i, Found: Excerpt()));

    private string Excerpt()
    {
        int a = Math.Max(0, _i - 20), b = Math.Min(_s.Length, _i + 20);
        return "'" + _s[a..b].Replace("\n", "\\n", StringComparison.Ordinal) + "'";
    }
}
