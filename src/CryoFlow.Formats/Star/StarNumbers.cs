using System.Globalization;

namespace CryoFlow.Formats.Star;

/// <summary>How CryoFlow prints numbers into STAR files.</summary>
public static class StarNumbers
{
    /// <summary>
    /// The shortest invariant text that parses back to exactly <paramref name="value"/> (fixed or
    /// scientific, as .NET chooses; RELION and every C parser read both).
    /// </summary>
    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// Like <see cref="Format"/>, except that a double holding exactly a float32 value is printed as
    /// that float's shortest text: values that came from float32 files (cryoSPARC, MRC headers) read
    /// as written ("0.1", not "0.10000000149011612"). The change is below float32 resolution.
    /// </summary>
    public static string FormatCompact(double value)
    {
        float f = (float)value;
        if (float.IsFinite(f) && (double)f == value) return f.ToString("R", CultureInfo.InvariantCulture);
        return Format(value);
    }
}
