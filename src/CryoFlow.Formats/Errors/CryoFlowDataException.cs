using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace CryoFlow.Formats.Errors;

/// <summary>
/// Bad user data: a file that is missing, truncated, inconsistent or in a form CryoFlow refuses.
/// Carries where the problem is (file, field, record, line, byte offset) and what was expected and
/// found, and composes them into one message a person can act on. Programming errors are never this
/// type.
/// </summary>
public class CryoFlowDataException : Exception
{
    public CryoFlowDataException(string problem, DataLocation where, Exception? inner = null)
        : base(Compose(problem, where), inner)
    {
        Problem = problem;
        Where = where;
    }

    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; }

    /// <summary>Where it is wrong.</summary>
    public DataLocation Where { get; }

    public string? FilePath => Where.FilePath;

    private static string Compose(string problem, DataLocation w)
    {
        var sb = new StringBuilder();
        if (w.FilePath is not null) sb.Append(w.FilePath).Append(": ");
        var parts = new List<string>();
        if (w.Block is not null) parts.Add($"block data_{w.Block}");
        if (w.Line is not null) parts.Add($"line {w.Line}");
        if (w.Record is not null) parts.Add($"record {w.Record}");
        if (w.Field is not null) parts.Add($"field {w.Field}");
        if (w.ByteOffset is not null) parts.Add($"byte offset {w.ByteOffset}");
        if (parts.Count > 0) sb.Append(string.Join(", ", parts)).Append(": ");
        sb.Append(problem);
        if (w.Expected is not null || w.Found is not null)
            sb.Append(" (expected ").Append(w.Expected ?? "?").Append(", found ").Append(w.Found ?? "?").Append(')');
        return sb.ToString();
    }

    [DoesNotReturn]
    public static void Throw(string problem, DataLocation where) => throw new CryoFlowDataException(problem, where);
}

/// <summary>Where in a file a problem is. Every member optional; the message shows those set.</summary>
/// <param name="FilePath">the file</param>
/// <param name="Field">header field or column name (e.g. "NX", "rlnImageName")</param>
/// <param name="ByteOffset">byte offset in the file</param>
/// <param name="Record">0-based record (image, particle or row) index</param>
/// <param name="Line">1-based text line</param>
/// <param name="Block">STAR data block name (without "data_")</param>
/// <param name="Expected">what a valid file has there</param>
/// <param name="Found">what this file has there</param>
public readonly record struct DataLocation(
    string? FilePath = null,
    string? Field = null,
    long? ByteOffset = null,
    long? Record = null,
    long? Line = null,
    string? Block = null,
    string? Expected = null,
    string? Found = null);

/// <summary>An MRC file that cannot be read as declared.</summary>
public sealed class MrcFormatException(string problem, DataLocation where, Exception? inner = null)
    : CryoFlowDataException(problem, where, inner);

/// <summary>A STAR file that cannot be parsed or lacks what is needed.</summary>
public sealed class StarFormatException(string problem, DataLocation where, Exception? inner = null)
    : CryoFlowDataException(problem, where, inner);

/// <summary>A cryoSPARC .cs (NumPy) file that cannot be read.</summary>
public sealed class CryoSparcFormatException(string problem, DataLocation where, Exception? inner = null)
    : CryoFlowDataException(problem, where, inner);

/// <summary>A referenced file (stack, micrograph) that is found nowhere; lists every place tried.</summary>
public sealed class DataFileNotFoundException : CryoFlowDataException
{
    public DataFileNotFoundException(string reference, IReadOnlyList<string> tried, DataLocation where)
        : base($"file '{reference}' not found; tried: {string.Join(", ", tried)}", where)
    {
        Reference = reference;
        Tried = tried;
    }

    public string Reference { get; }
    public IReadOnlyList<string> Tried { get; }
}

/// <summary>A particle coordinate file (STAR, .box, .cbox, .json, Topaz) that cannot be read.</summary>
public sealed class CoordinateFormatException(string problem, DataLocation where, Exception? inner = null)
    : CryoFlowDataException(problem, where, inner);

/// <summary>A CTF estimate file (micrographs_ctf.star, CTFFIND4 .txt) that cannot be read.</summary>
public sealed class CtfFormatException(string problem, DataLocation where, Exception? inner = null)
    : CryoFlowDataException(problem, where, inner);
