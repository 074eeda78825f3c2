using System.Globalization;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Star;
using CryoFlow.Numerics.Ctf;
using Serilog;
using L = CryoFlow.Formats.Particles.RelionLabels;

namespace CryoFlow.Formats.Micrographs;

/// <summary>
/// Reads per-micrograph CTF estimates:
/// <list type="bullet">
/// <item>RELION <c>micrographs_ctf.star</c>: 3.1+ (data_optics with voltage, Cs, amplitude contrast and
/// rlnMicrographPixelSize; data_micrographs with rlnMicrographName, rlnOpticsGroup and the fit) and 3.0 (one
/// block, everything per row, pixel size = 10000 * rlnDetectorPixelSize / rlnMagnification). A value in the row
/// overrides its optics group's (3dem/relion src/ctf.cpp). Defaults as RELION's: DefocusV = DefocusU, angle 0,
/// amplitude contrast 0, phase shift 0, B-factor 0, scale 1.</item>
/// <item>CTFFIND4 diagnostic <c>.txt</c>: header lines give pixel size, voltage, Cs and amplitude contrast; the data
/// row gives defocus 1 and 2 (Å), the astigmatism azimuth (degrees), the extra phase shift (radians, converted to
/// degrees), the cross correlation and the fit resolution (Å, "inf" for none), read as RELION's ctffind runner does
/// (3dem/relion src/ctffind_runner.cpp getCtffind4Results).</item>
/// </list>
/// </summary>
public static class MicrographCtfReader
{
    private const string MicrographName = L.MicrographName;
    private const string MicrographPixelSize = L.MicrographPixelSize;
    private const string FigureOfMerit = L.CtfFigureOfMerit;
    private const string MaxResolution = L.CtfMaxResolution;

    /// <summary>Every micrograph's CTF in the file (.star or CTFFIND4 .txt).</summary>
    /// <exception cref="CryoFlowDataException">missing file, bad content</exception>
    public static IReadOnlyList<MicrographCtf> Read(string path, ILogger? logger = null)
    {
        if (!File.Exists(path)) throw new DataFileNotFoundException(path, [Path.GetFullPath(path)], new DataLocation(FilePath: path));
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".star" => ReadRelion(StarReader.ReadFile(path, logger), path),
            ".txt" => [ReadCtffind(path)],
            string ext => throw new CtfFormatException($"unknown CTF file extension '{ext}'", new DataLocation(FilePath: path, Expected: ".star (RELION) or .txt (CTFFIND4)", Found: ext)),
        };
    }

    // ------------------------------------------------------------------ RELION

    /// <summary>The micrographs of a RELION micrographs STAR document (3.0 or 3.1+).</summary>
    public static IReadOnlyList<MicrographCtf> ReadRelion(StarDocument doc, string path)
    {
        var optics = doc.Blocks.FirstOrDefault(b => b.Name == "optics" && b.Loop is not null)?.Loop;
        var rows = (doc.Blocks.FirstOrDefault(b => b.Name == "micrographs" && b.Loop is not null)
            ?? doc.Blocks.FirstOrDefault(b => b.Loop is { } t && t.Contains(MicrographName))
            ?? throw new CtfFormatException("no micrographs table: no loop has _rlnMicrographName", new DataLocation(FilePath: path, Field: MicrographName))).Loop!;
        int cName = rows.RequireColumn(MicrographName);
        rows.RequireColumn(L.DefocusU, "a micrographs file with CTF estimates");
        var groups = optics is null ? null : ReadOptics(optics);
        int cGroup = rows.IndexOf(L.OpticsGroup);
        if (groups is not null && cGroup < 0 && groups.Count != 1) rows.RequireColumn(L.OpticsGroup, $"data_optics has {groups.Count} groups");

        var result = new MicrographCtf[rows.RowCount];
        for (int r = 0; r < rows.RowCount; r++)
        {
            OpticsValues group = default;
            if (groups is not null)
            {
                int number = cGroup >= 0 ? rows.GetInt32(r, cGroup) : groups.Keys.Single();
                if (!groups.TryGetValue(number, out group))
                    throw new CtfFormatException($"optics group {number} is not in data_optics", rows.Where(r, cGroup, string.Join(", ", groups.Keys), number.ToString(CultureInfo.InvariantCulture)));
            }
            double? Value(string label, double? fallback)
            {
                int c = rows.IndexOf(label);
                return c >= 0 ? rows.GetDouble(r, c) : fallback;
            }
            double? kv = Value(L.Voltage, group.Voltage), cs = Value(L.SphericalAberration, group.Cs);
            if (kv is null) rows.RequireColumn(L.Voltage, "in the row or its optics group");
            if (cs is null) rows.RequireColumn(L.SphericalAberration, "in the row or its optics group");
            double u = Value(L.DefocusU, null)!.Value;
            var ctf = new CtfParameters(u, Value(L.DefocusV, u)!.Value, Value(L.DefocusAngle, 0)!.Value, kv!.Value, cs!.Value,
                Value(L.AmplitudeContrast, group.AmplitudeContrast ?? 0)!.Value, Value(L.PhaseShift, 0)!.Value, Value(L.CtfBfactor, 0)!.Value, Value(L.CtfScalefactor, 1)!.Value);
            Check(ctf, path, rows.LineOf(r));
            double? apix = Value(MicrographPixelSize, null) ?? Relion30PixelSize(rows, r) ?? group.PixelSize;
            double? Quality(string label) => rows.IndexOf(label) is int c and >= 0 ? Lenient(rows.GetString(r, c)) : null;
            result[r] = new MicrographCtf(path, rows.GetString(r, cName), false, ctf, apix, Quality(FigureOfMerit), Quality(MaxResolution), rows.LineOf(r));
        }
        return result;
    }

    private readonly record struct OpticsValues(double? Voltage, double? Cs, double? AmplitudeContrast, double? PixelSize);

    private static Dictionary<int, OpticsValues> ReadOptics(StarTable t)
    {
        int cNumber = t.RequireColumn(L.OpticsGroup);
        var groups = new Dictionary<int, OpticsValues>();
        for (int r = 0; r < t.RowCount; r++)
        {
            double? Value(params string[] labels)
            {
                foreach (string label in labels)
                    if (t.IndexOf(label) is int c and >= 0) return t.GetDouble(r, c);
                return null;
            }
            groups[t.GetInt32(r, cNumber)] = new OpticsValues(Value(L.Voltage), Value(L.SphericalAberration), Value(L.AmplitudeContrast),
                Value(MicrographPixelSize, L.MicrographOriginalPixelSize));
        }
        return groups;
    }

    private static double? Relion30PixelSize(StarTable t, int r)
    {
        int cDet = t.IndexOf(L.DetectorPixelSize), cMag = t.IndexOf(L.Magnification);
        if (cDet < 0 || cMag < 0) return null;
        double mag = t.GetDouble(r, cMag);
        return mag > 0 ? 10000 * t.GetDouble(r, cDet) / mag : null;
    }

    // ------------------------------------------------------------------ CTFFIND4

    /// <summary>A CTFFIND4 diagnostic text file (one micrograph).</summary>
    public static MicrographCtf ReadCtffind(string path)
    {
        double? apix = null, kv = null, cs = null, q0 = null;
        string? input = null;
        string[]? data = null;
        long dataLine = 0, n = 0;
        foreach (string raw in File.ReadLines(path))
        {
            n++;
            string line = raw.Trim();
            if (line.Length == 0) continue;
            if (line[0] == '#')
            {
                foreach (string part in line.TrimStart('#').Split(';'))
                {
                    int colon = part.IndexOf(':', StringComparison.Ordinal);
                    if (colon < 0) continue;
                    string key = part[..colon].Trim().ToLowerInvariant(), value = part[(colon + 1)..].Trim();
                    switch (key)
                    {
                        case "input file": input = value; break;
                        case "pixel size": apix = HeaderNumber(path, n, key, value); break;
                        case "acceleration voltage": kv = HeaderNumber(path, n, key, value); break;
                        case "spherical aberration": cs = HeaderNumber(path, n, key, value); break;
                        case "amplitude contrast": q0 = HeaderNumber(path, n, key, value); break;
                    }
                }
                continue;
            }
            if (data is not null)
                throw new CtfFormatException("more than one data row: CryoFlow reads one micrograph per CTFFIND4 file",
                    new DataLocation(FilePath: path, Line: n, Expected: "one row", Found: $"rows at lines {dataLine} and {n}"));
            data = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            dataLine = n;
        }
        if (data is null) throw new CtfFormatException("no data row: not a CTFFIND4 diagnostic file?", new DataLocation(FilePath: path, Expected: "#1 micrograph number; #2 defocus 1 ..."));
        if (data.Length < 7)
            throw new CtfFormatException("a CTFFIND4 data row has 7 columns (number, defocus 1, defocus 2, azimuth, phase shift, cross correlation, fit resolution)",
                new DataLocation(FilePath: path, Line: dataLine, Expected: "7 or more columns", Found: $"{data.Length}"));
        if (kv is null || cs is null || apix is null)
            throw new CtfFormatException("the header gives no " + (kv is null ? "acceleration voltage" : cs is null ? "spherical aberration" : "pixel size"),
                new DataLocation(FilePath: path, Field: "header", Expected: "# Pixel size: ... ; acceleration voltage: ... ; spherical aberration: ... ; amplitude contrast: ..."));
        double Column(int i, string name) =>
            double.TryParse(data[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && !double.IsNaN(v) ? v
            : throw new CtfFormatException($"{name} must be a number", new DataLocation(FilePath: path, Line: dataLine, Field: $"#{i + 1} {name}", Expected: "a number", Found: $"'{data[i]}'"));
        double phaseDeg = Column(4, "additional phase shift") * 180 / Math.PI;
        var ctf = new CtfParameters(Column(1, "defocus 1"), Column(2, "defocus 2"), Column(3, "azimuth of astigmatism"), kv.Value, cs.Value, q0 ?? 0, phaseDeg);
        Check(ctf, path, dataLine);
        return new MicrographCtf(path, Path.GetFileNameWithoutExtension(path), true, ctf, apix, Lenient(data[5]), Lenient(data[6]), dataLine, input);
    }

    private static double HeaderNumber(string path, long line, string key, string value)
    {
        // "1.000 Angstroms", "300.0 keV", "2.70 mm", "0.07"
        string number = value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
            : throw new CtfFormatException($"'{key}' must be a number", new DataLocation(FilePath: path, Line: line, Field: key, Expected: "a number", Found: $"'{value}'"));
    }

    /// <summary>A quality figure that may be written "inf" (CTFFIND's fit resolution when no ring fitted): null unless a finite number.</summary>
    private static double? Lenient(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v : null;

    /// <summary>The values RELION refuses (src/ctf.cpp): amplitude contrast outside [0, 1), non-positive voltage.</summary>
    private static void Check(CtfParameters c, string path, long? line)
    {
        if (c.AmplitudeContrast is < 0 or >= 1)
            throw new CtfFormatException("amplitude contrast must be in [0, 1)", new DataLocation(FilePath: path, Line: line, Field: L.AmplitudeContrast, Expected: "[0, 1)", Found: c.AmplitudeContrast.ToString(CultureInfo.InvariantCulture)));
        if (!(c.VoltageKv > 0))
            throw new CtfFormatException("voltage must be positive", new DataLocation(FilePath: path, Line: line, Field: L.Voltage, Expected: "> 0 kV", Found: c.VoltageKv.ToString(CultureInfo.InvariantCulture)));
        if (!double.IsFinite(c.DefocusU) || !double.IsFinite(c.DefocusV))
            throw new CtfFormatException("defocus must be finite", new DataLocation(FilePath: path, Line: line, Field: L.DefocusU));
    }
}
