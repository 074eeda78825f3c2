using CryoFlow.Formats.Errors;

namespace CryoFlow.Formats.Micrographs;

/// <summary>Each micrograph's CTF, and the estimates that name no given micrograph.</summary>
public sealed record CtfAssignment(IReadOnlyDictionary<string, MicrographCtf> ByMicrograph, IReadOnlyList<MicrographCtf> Unmatched);

/// <summary>Pairs CTF estimates with micrographs by name (<see cref="MicrographIndex"/>).</summary>
public static class MicrographCtfMatcher
{
    /// <exception cref="CryoFlowDataException">two estimates name the same micrograph</exception>
    public static CtfAssignment Assign(MicrographIndex index, IEnumerable<MicrographCtf> estimates)
    {
        var byMicrograph = new Dictionary<string, MicrographCtf>(StringComparer.Ordinal);
        var unmatched = new List<MicrographCtf>();
        foreach (var e in estimates)
        {
            string? mic = index.Find(e.MicrographKey, e.KeyIsFileName) ?? (e.AlternativeKey is string alt ? index.Find(alt, false) : null);
            if (mic is null) { unmatched.Add(e); continue; }
            if (byMicrograph.TryGetValue(mic, out var other))
                throw new CtfFormatException($"two CTF estimates name micrograph {mic}",
                    new DataLocation(FilePath: e.SourcePath, Line: e.Line, Expected: "one estimate per micrograph", Found: $"{other} and {e}"));
            byMicrograph[mic] = e;
        }
        return new CtfAssignment(byMicrograph, unmatched);
    }
}
