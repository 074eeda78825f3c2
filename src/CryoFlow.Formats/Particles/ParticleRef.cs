using System.Globalization;

namespace CryoFlow.Formats.Particles;

/// <summary>
/// Where a particle image is: the stack path as written in the metadata (relative paths unresolved)
/// and the 0-based index of the image in that stack. RELION writes it as <c>N@path</c> with N 1-based.
/// </summary>
public readonly record struct ParticleRef(string StackPath, int Index)
{
    /// <summary>RELION's <c>N@path</c> with N = Index + 1, zero-padded to 6 digits as RELION writes it.</summary>
    public string ToImageName() => (Index + 1).ToString("D6", CultureInfo.InvariantCulture) + "@" + StackPath;

    public override string ToString() => ToImageName();

    /// <summary>
    /// Splits <c>N@path</c> (N 1-based, leading zeros allowed) into a 0-based index and the path's start.
    /// A name without '@' is a single image: index 0, the whole text is the path.
    /// </summary>
    /// <returns>null, or why the text is not an image name</returns>
    internal static string? TrySplit(ReadOnlySpan<byte> name, out int index, out int pathStart)
    {
        index = 0;
        pathStart = 0;
        int at = name.IndexOf((byte)'@');
        if (at < 0) return name.Length == 0 ? "empty image name" : null;
        var number = name[..at];
        if (number.Length == 0) return "no image number before '@'";
        foreach (byte b in number)
            if (b < (byte)'0' || b > (byte)'9') return "the image number before '@' is not a whole number";
        if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out int n)) return "the image number before '@' is too large";
        if (n < 1) return "image numbers in N@path start at 1";
        if (at + 1 >= name.Length) return "no stack path after '@'";
        index = n - 1;
        pathStart = at + 1;
        return null;
    }
}
