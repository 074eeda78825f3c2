using System.Text;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Star;
using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Geometry;
using L = CryoFlow.Formats.Particles.RelionLabels;

namespace CryoFlow.Formats.Particles;

/// <summary>
/// Builds a <see cref="ParticleTable"/> from a STAR document, following RELION:
/// <list type="bullet">
/// <item>particle rows: block data_particles, else the first other block whose loop has rlnImageName;
/// optics: block data_optics (absent in RELION 3.0 files).</item>
/// <item>a per-particle value overrides the optics group's (3dem/relion src/ctf.cpp readValue order):
/// voltage, Cs, amplitude contrast, pixel size.</item>
/// <item>pixel size: rlnImagePixelSize, else 10000 * rlnDetectorPixelSize / rlnMagnification (3.0),
/// particle row first, then optics, then <see cref="ParticleReadOptions.PixelSizeAngst"/>.</item>
/// <item>CTF defaults (src/ctf.cpp read): DefocusV = DefocusU, angle 0, Q0 0, phase 0, B 0, scale 1;
/// voltage and Cs are required when rlnDefocusU is present.</item>
/// <item>shifts in Å: rlnOriginXAngst/YAngst, else rlnOriginX/Y (pixels) times the pixel size.</item>
/// <item>without data_optics, each distinct (pixel size, voltage, Cs, Q0) becomes an optics group,
/// numbered in order of first appearance, as RELION's 3.0 to 3.1 conversion does.</item>
/// </list>
/// </summary>
internal static class ParticleStarReader
{
    public static ParticleTable Read(StarDocument doc, ParticleReadOptions options)
    {
        var opticsBlock = FindOpticsBlock(doc);
        var particleBlock = FindParticleBlock(doc, opticsBlock);
        var t = particleBlock.Loop!;
        var rows = new RowParser(t, opticsBlock, options);
        var particles = new Particle[t.RowCount];
        for (int r = 0; r < t.RowCount; r++) particles[r] = rows.Parse(t, r, r);
        var resolver = Resolver(doc.SourcePath, options);
        return new ParticleTable(particles, rows.Groups(), rows.Stacks.ToArray(), doc, particleBlock, opticsBlock, resolver, rows.HasCtf, rows.HasPoses);
    }

    internal static StarBlock? FindOpticsBlock(StarDocument doc) => doc.Blocks.FirstOrDefault(b => b.Name == "optics" && b.Loop is not null);

    internal static StackPathResolver Resolver(string? sourcePath, ParticleReadOptions options)
    {
        string? folder = sourcePath is null ? null : Path.GetDirectoryName(Path.GetFullPath(sourcePath));
        return new StackPathResolver(folder, options.DataDir, options.WorkingDirectory);
    }

    /// <summary>
    /// Turns particle rows into <see cref="Particle"/>s, one row at a time (so a streamed loop needs no table of rows):
    /// the column positions are found once from the labels; optics groups built from per-particle values (RELION 3.0)
    /// and distinct stack paths accumulate as rows go by.
    /// </summary>
    internal sealed class RowParser
    {
        private readonly int cImage, cGroup, cApix, cDet, cMag, cKv, cCs, cQ0, cDfU, cDfV, cDfA, cPhase, cB, cScale, cRot, cTilt, cPsi, cOxA, cOyA, cOx, cOy, cSubset;
        private readonly List<OpticsGroup>? _groups;
        private readonly Dictionary<int, OpticsGroup>? _byNumber;
        private readonly Dictionary<OpticsSettings, OpticsGroup> _built = [];
        private readonly StackNames _stacks = new();
        private readonly ParticleReadOptions _options;

        public RowParser(StarTable t, StarBlock? opticsBlock, ParticleReadOptions options)
        {
            _options = options;
            _groups = opticsBlock is null ? null : ReadOpticsGroups(opticsBlock.Loop!, options);
            cImage = t.RequireColumn(L.ImageName);
            cGroup = t.IndexOf(L.OpticsGroup);
            (cApix, cDet, cMag) = (t.IndexOf(L.ImagePixelSize), t.IndexOf(L.DetectorPixelSize), t.IndexOf(L.Magnification));
            (cKv, cCs, cQ0) = (t.IndexOf(L.Voltage), t.IndexOf(L.SphericalAberration), t.IndexOf(L.AmplitudeContrast));
            (cDfU, cDfV, cDfA) = (t.IndexOf(L.DefocusU), t.IndexOf(L.DefocusV), t.IndexOf(L.DefocusAngle));
            (cPhase, cB, cScale) = (t.IndexOf(L.PhaseShift), t.IndexOf(L.CtfBfactor), t.IndexOf(L.CtfScalefactor));
            (cRot, cTilt, cPsi) = (t.IndexOf(L.AngleRot), t.IndexOf(L.AngleTilt), t.IndexOf(L.AnglePsi));
            (cOxA, cOyA, cOx, cOy) = (t.IndexOf(L.OriginXAngst), t.IndexOf(L.OriginYAngst), t.IndexOf(L.OriginX), t.IndexOf(L.OriginY));
            cSubset = t.IndexOf(L.RandomSubset);
            if (cDet >= 0 != cMag >= 0) { cDet = -1; cMag = -1; } // one without the other says nothing
            HasCtf = cDfU >= 0;
            HasPoses = cRot >= 0 || cTilt >= 0 || cPsi >= 0 || cOxA >= 0 || cOyA >= 0 || cOx >= 0 || cOy >= 0;
            if (_groups is not null && cGroup < 0 && _groups.Count != 1)
                t.RequireColumn(L.OpticsGroup, $"data_optics has {_groups.Count} groups");
            _byNumber = _groups?.ToDictionary(g => g.Number);
        }

        public bool HasCtf { get; }

        public bool HasPoses { get; }

        /// <summary>Each stack path as written, once, in order of first use.</summary>
        public List<string> Stacks => _stacks.Distinct;

        /// <summary>The optics groups in number order: data_optics's, or those built from the rows so far.</summary>
        public OpticsGroup[] Groups() => (_groups ?? _built.Values.ToList()).OrderBy(x => x.Number).ToArray();

        /// <param name="t">the loop</param>
        /// <param name="r">the row in <paramref name="t"/></param>
        /// <param name="sourceRow">the row's index in the whole loop (<see cref="Particle.SourceRow"/>)</param>
        public Particle Parse(StarTable t, int r, int sourceRow)
        {
            var name = t.GetUtf8(r, cImage);
            string? problem = ParticleRef.TrySplit(name, out int index, out int pathStart);
            if (problem is not null)
            {
                string text = Encoding.UTF8.GetString(name);
                throw new StarFormatException($"{problem}: '{text}'", t.Where(r, cImage, "N@path with N a whole number from 1", $"'{text}'"));
            }
            var image = new ParticleRef(_stacks.Get(name[pathStart..]), index);

            OpticsGroup? g = null;
            if (_byNumber is not null)
            {
                if (cGroup < 0) g = _groups![0];
                else
                {
                    int n = t.GetInt32(r, cGroup);
                    if (!_byNumber.TryGetValue(n, out g))
                        throw new StarFormatException($"optics group {n} is not in data_optics",
                            t.Where(r, cGroup, "one of " + string.Join(", ", _byNumber.Keys), n.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                }
            }

            double? kv = cKv >= 0 ? t.GetDouble(r, cKv) : g?.VoltageKv;
            double? cs = cCs >= 0 ? t.GetDouble(r, cCs) : g?.SphericalAberrationMm;
            double? q0 = cQ0 >= 0 ? t.GetDouble(r, cQ0) : g?.AmplitudeContrast;
            double? apix = cApix >= 0 ? Positive(t, r, cApix, t.GetDouble(r, cApix))
                : cMag >= 0 ? FromDetector(t, r, cDet, cMag)
                : g is not null ? g.PixelSizeAngst
                : _options.PixelSizeAngst;

            if (g is null)
            {
                var key = new OpticsSettings(apix, null, kv, cs, q0);
                if (!_built.TryGetValue(key, out g))
                {
                    g = new OpticsGroup(_built.Count + 1, OpticsGroup.DefaultName(_built.Count + 1), key, null);
                    _built.Add(key, g);
                }
            }

            CtfParameters? ctf = null;
            if (HasCtf)
            {
                double u = t.GetDouble(r, cDfU);
                ctf = new CtfParameters(
                    DefocusU: u,
                    DefocusV: cDfV >= 0 ? t.GetDouble(r, cDfV) : u,
                    DefocusAngleDeg: cDfA >= 0 ? t.GetDouble(r, cDfA) : 0,
                    VoltageKv: kv ?? throw Missing(t, r, L.Voltage),
                    SphericalAberrationMm: cs ?? throw Missing(t, r, L.SphericalAberration),
                    AmplitudeContrast: q0 ?? 0,
                    PhaseShiftDeg: cPhase >= 0 ? t.GetDouble(r, cPhase) : 0,
                    BFactor: cB >= 0 ? t.GetDouble(r, cB) : 0,
                    Scale: cScale >= 0 ? t.GetDouble(r, cScale) : 1);
            }

            Pose? pose = null;
            if (HasPoses)
            {
                var angles = new EulerAngles(
                    cRot >= 0 ? t.GetDouble(r, cRot) : 0,
                    cTilt >= 0 ? t.GetDouble(r, cTilt) : 0,
                    cPsi >= 0 ? t.GetDouble(r, cPsi) : 0);
                pose = new Pose(angles, Shift(t, r, cOxA, cOx, apix), Shift(t, r, cOyA, cOy, apix));
            }

            int? subset = cSubset >= 0 ? t.GetInt32(r, cSubset) : null;
            return new Particle(image, g, apix, ctf, pose, subset, sourceRow);
        }
    }

    internal static StarBlock FindParticleBlock(StarDocument doc, StarBlock? optics)
    {
        var named = doc.Blocks.FirstOrDefault(b => b.Name == "particles" && b.Loop is not null);
        if (named is not null)
        {
            named.Loop!.RequireColumn(L.ImageName);
            return named;
        }
        var found = doc.Blocks.FirstOrDefault(b => b != optics && b.Loop?.Contains(L.ImageName) == true);
        if (found is not null) return found;
        var firstLoop = doc.Blocks.FirstOrDefault(b => b != optics && b.Loop is not null);
        if (firstLoop is null)
            throw new StarFormatException("no particle table: no data_ block with a loop_ (other than data_optics)",
                new DataLocation(FilePath: doc.SourcePath, Field: L.ImageName, Expected: "a loop with _rlnImageName", Found: string.Join(", ", doc.Blocks.Select(b => "data_" + b.Name))));
        firstLoop.Loop!.RequireColumn(L.ImageName);
        return firstLoop; // unreachable: RequireColumn threw
    }

    private static List<OpticsGroup> ReadOpticsGroups(StarTable t, ParticleReadOptions options)
    {
        int cNum = t.RequireColumn(L.OpticsGroup);
        int cName = t.IndexOf(L.OpticsGroupName);
        int cApix = t.IndexOf(L.ImagePixelSize), cDet = t.IndexOf(L.DetectorPixelSize), cMag = t.IndexOf(L.Magnification);
        int cBox = t.IndexOf(L.ImageSize);
        int cKv = t.IndexOf(L.Voltage), cCs = t.IndexOf(L.SphericalAberration), cQ0 = t.IndexOf(L.AmplitudeContrast);
        if (cDet >= 0 != cMag >= 0) { cDet = -1; cMag = -1; }
        var list = new List<OpticsGroup>(t.RowCount);
        var seen = new HashSet<int>();
        for (int r = 0; r < t.RowCount; r++)
        {
            int n = t.GetInt32(r, cNum);
            if (!seen.Add(n)) throw new StarFormatException($"optics group {n} is defined twice", t.Where(r, cNum, "distinct group numbers", $"{n} again"));
            double? apix = cApix >= 0 ? Positive(t, r, cApix, t.GetDouble(r, cApix))
                : cMag >= 0 ? FromDetector(t, r, cDet, cMag)
                : options.PixelSizeAngst;
            int? box = cBox >= 0 ? t.GetInt32(r, cBox) : null;
            if (box is <= 0) throw new StarFormatException($"box size must be positive, not {box}", t.Where(r, cBox, "> 0", $"{box}"));
            var settings = new OpticsSettings(apix, box,
                cKv >= 0 ? t.GetDouble(r, cKv) : null,
                cCs >= 0 ? t.GetDouble(r, cCs) : null,
                cQ0 >= 0 ? t.GetDouble(r, cQ0) : null);
            list.Add(new OpticsGroup(n, cName >= 0 ? t.GetString(r, cName) : OpticsGroup.DefaultName(n), settings, r));
        }
        if (list.Count == 0)
            throw new StarFormatException("data_optics has no rows", new DataLocation(FilePath: t.FilePath, Block: t.BlockName, Line: t.LoopLine));
        return list;
    }

    private static double Positive(StarTable t, int r, int c, double v) =>
        v > 0 && double.IsFinite(v) ? v : throw new StarFormatException($"_{t.Label(c)} must be a positive number", t.Where(r, c, "> 0", t.GetString(r, c)));

    private static double FromDetector(StarTable t, int r, int cDet, int cMag)
    {
        double det = Positive(t, r, cDet, t.GetDouble(r, cDet));
        double mag = Positive(t, r, cMag, t.GetDouble(r, cMag));
        return 10000.0 * det / mag;
    }

    private static double Shift(StarTable t, int r, int cAngst, int cPixels, double? apix)
    {
        if (cAngst >= 0) return t.GetDouble(r, cAngst);
        if (cPixels < 0) return 0;
        double px = t.GetDouble(r, cPixels);
        if (apix is null)
            throw new StarFormatException($"_{t.Label(cPixels)} is in pixels but the pixel size is unknown (no rlnImagePixelSize or rlnDetectorPixelSize/rlnMagnification); give it with --apix",
                t.Where(r, cPixels, "a pixel size", "none"));
        return px * apix.Value;
    }

    private static StarFormatException Missing(StarTable t, int r, string label) => new(
        $"_{label} is in neither the particle table nor data_optics; it is needed with _{L.DefocusU}",
        t.Where(r, -1) with { Field = label });

    /// <summary>Stack paths as strings, one instance per distinct path; no string per row.</summary>
    private sealed class StackNames
    {
        private readonly Dictionary<string, string> _byName = new(StringComparer.Ordinal);
        private byte[] _lastBytes = [];
        private string _last = "";
        private char[] _chars = new char[256];

        public List<string> Distinct { get; } = [];

        public string Get(ReadOnlySpan<byte> utf8)
        {
            if (utf8.SequenceEqual(_lastBytes)) return _last;
            int max = Encoding.UTF8.GetMaxCharCount(utf8.Length);
            if (_chars.Length < max) _chars = new char[max];
            int n = Encoding.UTF8.GetChars(utf8, _chars);
            var lookup = _byName.GetAlternateLookup<ReadOnlySpan<char>>();
            if (!lookup.TryGetValue(_chars.AsSpan(0, n), out string? s))
            {
                s = new string(_chars, 0, n);
                _byName.Add(s, s);
                Distinct.Add(s);
            }
            _lastBytes = utf8.ToArray();
            _last = s;
            return s;
        }
    }
}
