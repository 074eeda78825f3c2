using System.Text;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Particles;
using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Geometry;

namespace CryoFlow.Formats.CryoSparc;

/// <summary>
/// Reads a cryoSPARC particle <c>.cs</c> file (a NumPy record array, see <see cref="NpyHeader"/>) into
/// the same <see cref="ParticleTable"/> as STAR input, converting to RELION's conventions as pyem does
/// (asarnow/pyem pyem/metadata/cryosparc2.py):
/// <list type="bullet">
/// <item>blob/path (a leading '>' stripped) and blob/idx (0-based) give the image; blob/shape[0] the
/// box; blob/psize_A the pixel size.</item>
/// <item>ctf/accel_kv, cs_mm, amp_contrast, df1_A, df2_A, df_angle_rad and phase_shift_rad (radians
/// to degrees), bfactor, scale; voltage, Cs, Q0, pixel size and box make the optics groups.</item>
/// <item>alignments3D/pose is an axis-angle vector (radians). pyem's expmap builds the transpose of the
/// standard Rodrigues matrix and decomposes that with RELION's Euler_matrix2angles; here that is
/// <c>EulerAngles.FromMatrix(Rotation3.FromAxisAngle(v).Transpose())</c>, so a rotation by +a about z
/// gives rot + psi = a.</item>
/// <item>alignments3D/shift is in pixels with RELION's rlnOrigin sign; it is multiplied by
/// alignments3D/psize_A (else blob/psize_A) to Å. alignments3D/split (0/1) becomes rlnRandomSubset 1/2.</item>
/// </list>
/// Records are streamed; the file is never held whole in memory.
/// </summary>
public static class CryoSparcReader
{
    private const double Deg = 180.0 / Math.PI;

    /// <summary>Whether the file starts with NumPy's or cryoSPARC's compressed-container magic bytes.</summary>
    public static bool LooksLikeCryoSparc(string path)
    {
        if (!File.Exists(path)) return false;
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 16);
        Span<byte> b = stackalloc byte[6];
        int n = 0;
        while (n < 6)
        {
            int k = fs.Read(b[n..]);
            if (k == 0) return false;
            n += k;
        }
        return b.SequenceEqual(NpyHeader.NpyMagic) || b.SequenceEqual(NpyHeader.CsdatMagic);
    }

    public static NpyHeader ReadHeader(string path)
    {
        using var fs = Open(path);
        return NpyHeader.Read(fs, path, fs.Length);
    }

    public static ParticleTable ReadParticles(string path, ParticleReadOptions? options = null)
    {
        options ??= new ParticleReadOptions();
        using var fs = Open(path);
        var h = NpyHeader.Read(fs, path, fs.Length);
        string a = options.CryoSparcAlignments;

        var fPath = Require(h, "blob/path", path, text: true);
        var fIdx = Require(h, "blob/idx", path, integer: true);
        var fShape = Optional(h, "blob/shape", path, minElements: 1);
        var fPsize = Optional(h, "blob/psize_A", path);
        var fDf1 = Optional(h, "ctf/df1_A", path);
        var fDf2 = Optional(h, "ctf/df2_A", path);
        var fAngle = Optional(h, "ctf/df_angle_rad", path);
        var fKv = Optional(h, "ctf/accel_kv", path);
        var fCs = Optional(h, "ctf/cs_mm", path);
        var fQ0 = Optional(h, "ctf/amp_contrast", path);
        var fPhase = Optional(h, "ctf/phase_shift_rad", path);
        var fB = Optional(h, "ctf/bfactor", path);
        var fScale = Optional(h, "ctf/scale", path);
        var fPose = Optional(h, a + "/pose", path, minElements: 3);
        var fShift = Optional(h, a + "/shift", path, minElements: 2);
        var fAPsize = Optional(h, a + "/psize_A", path);
        var fSplit = Optional(h, a + "/split", path);
        if (fDf1 is not null)
        {
            Require(h, "ctf/accel_kv", path, why: "ctf/df1_A is present");
            Require(h, "ctf/cs_mm", path, why: "ctf/df1_A is present");
        }

        var builder = new ParticleTableBuilder(path);
        var names = new LastName();
        int perChunk = (int)Math.Max(1, Math.Min(h.Count, (1 << 20) / h.RecordSize));
        var buf = new byte[checked(perChunk * h.RecordSize)];
        fs.Position = h.DataOffset;
        for (long first = 0; first < h.Count; first += perChunk)
        {
            int n = (int)Math.Min(perChunk, h.Count - first);
            fs.ReadExactly(buf, 0, n * h.RecordSize);
            for (int k = 0; k < n; k++)
            {
                long i = first + k;
                var rec = new ReadOnlySpan<byte>(buf, k * h.RecordSize, h.RecordSize);
                DataLocation At(NpyField f) => new(FilePath: path, Record: i, Field: f.Name, ByteOffset: h.DataOffset + i * h.RecordSize + f.Offset);

                string stack = names.Get(fPath, rec);
                if (stack.Length == 0) throw new CryoSparcFormatException("empty stack path", At(fPath) with { Expected = "a path" });
                long idx = fIdx.ReadInteger(rec);
                if (idx < 0 || idx > int.MaxValue - 1)
                    throw new CryoSparcFormatException($"image index {idx} is out of range", At(fIdx) with { Expected = "0 or more", Found = idx.ToString(System.Globalization.CultureInfo.InvariantCulture) });

                double? apix = fPsize is null ? options.PixelSizeAngst : Positive(fPsize.ReadDouble(rec), fPsize, At);
                int? box = fShape is null ? null : checked((int)fShape.ReadInteger(rec));
                double? kv = fKv?.ReadDouble(rec), cs = fCs?.ReadDouble(rec), q0 = fQ0?.ReadDouble(rec);
                int group = builder.GetOrAddOpticsGroup(new OpticsSettings(apix, box, kv, cs, q0));

                CtfParameters? ctf = null;
                if (fDf1 is not null)
                {
                    double u = fDf1.ReadDouble(rec);
                    ctf = new CtfParameters(
                        DefocusU: u,
                        DefocusV: fDf2?.ReadDouble(rec) ?? u,
                        DefocusAngleDeg: (fAngle?.ReadDouble(rec) ?? 0) * Deg,
                        VoltageKv: kv!.Value,
                        SphericalAberrationMm: cs!.Value,
                        AmplitudeContrast: q0 ?? 0,
                        PhaseShiftDeg: (fPhase?.ReadDouble(rec) ?? 0) * Deg,
                        BFactor: fB?.ReadDouble(rec) ?? 0,
                        Scale: fScale?.ReadDouble(rec) ?? 1);
                }

                Pose? pose = null;
                if (fPose is not null || fShift is not null)
                {
                    var angles = new EulerAngles(0, 0, 0);
                    if (fPose is not null) angles = FromCryoSparcPose(fPose.ReadDouble(rec, 0), fPose.ReadDouble(rec, 1), fPose.ReadDouble(rec, 2));
                    double sx = 0, sy = 0;
                    if (fShift is not null)
                    {
                        double? psize = fAPsize is not null ? Positive(fAPsize.ReadDouble(rec), fAPsize, At) : apix;
                        if (psize is null)
                            throw new CryoSparcFormatException($"{fShift.Name} is in pixels but the file gives no pixel size (blob/psize_A); give it with --apix", At(fShift));
                        sx = fShift.ReadDouble(rec, 0) * psize.Value;
                        sy = fShift.ReadDouble(rec, 1) * psize.Value;
                    }
                    pose = new Pose(angles, sx, sy);
                }

                int? subset = null;
                if (fSplit is not null)
                {
                    long s = fSplit.ReadInteger(rec);
                    if (s is not (0 or 1)) throw new CryoSparcFormatException($"half-set split must be 0 or 1, not {s}", At(fSplit) with { Expected = "0 or 1" });
                    subset = (int)s + 1;
                }
                builder.Add(group, new ParticleRef(stack, (int)idx), ctf, pose, subset);
            }
        }
        return builder.Build(options);
    }

    /// <summary>
    /// RELION Euler angles (degrees) of a cryoSPARC axis-angle pose (radians), as pyem converts them.
    /// </summary>
    public static EulerAngles FromCryoSparcPose(double x, double y, double z) =>
        EulerAngles.FromMatrix(Rotation3.FromAxisAngle(x, y, z).Transpose());

    private static FileStream Open(string path)
    {
        if (!File.Exists(path)) throw new DataFileNotFoundException(path, [Path.GetFullPath(path)], new DataLocation(FilePath: path));
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
    }

    private static NpyField Require(NpyHeader h, string name, string path, bool text = false, bool integer = false, string? why = null)
    {
        var f = h.Find(name) ?? throw new CryoSparcFormatException(
            $"no field '{name}'" + (why is null ? "" : $" ({why})") + (name.StartsWith("blob/", StringComparison.Ordinal) ? "; is this a particle file (not a passthrough or micrograph file)?" : ""),
            new DataLocation(FilePath: path, Field: name, Expected: $"a field '{name}'", Found: string.Join(", ", h.Fields.Select(x => x.Name))));
        if (text && !f.IsText)
            throw new CryoSparcFormatException($"field '{name}' should be a string", new DataLocation(FilePath: path, Field: name, Expected: "|S<n>", Found: f.TypeString));
        if (integer && f.Kind is not (NpyKind.Int or NpyKind.UInt))
            throw new CryoSparcFormatException($"field '{name}' should be an integer", new DataLocation(FilePath: path, Field: name, Expected: "<u4 or another integer type", Found: f.TypeString));
        if (!text && !f.IsNumber)
            throw new CryoSparcFormatException($"field '{name}' should be a number", new DataLocation(FilePath: path, Field: name, Expected: "a number type", Found: f.TypeString));
        return f;
    }

    private static NpyField? Optional(NpyHeader h, string name, string path, int minElements = 1)
    {
        var f = h.Find(name);
        if (f is null) return null;
        if (!f.IsNumber || f.ElementCount < minElements)
            throw new CryoSparcFormatException($"field '{name}' should be {(minElements == 1 ? "a number" : $"{minElements} numbers")}",
                new DataLocation(FilePath: path, Field: name, Expected: minElements == 1 ? "a number type" : $"a number type with shape ({minElements},)", Found: f.TypeString + (f.Shape.Count > 0 ? $" ({string.Join(",", f.Shape)})" : "")));
        return f;
    }

    private static double Positive(double v, NpyField f, Func<NpyField, DataLocation> at) =>
        v > 0 && double.IsFinite(v) ? v : throw new CryoSparcFormatException($"{f.Name} must be positive", at(f) with { Expected = "> 0", Found = v.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    /// <summary>Decodes each distinct consecutive path once; strips cryoSPARC's leading '>'.</summary>
    private sealed class LastName
    {
        private byte[] _last = [];
        private string _name = "";

        public string Get(NpyField f, ReadOnlySpan<byte> record)
        {
            if (f.Kind == NpyKind.Unicode) return Strip(f.ReadString(record));
            var raw = f.RawBytes(record);
            if (raw.SequenceEqual(_last)) return _name;
            _last = raw.ToArray();
            _name = Strip(Encoding.UTF8.GetString(raw));
            return _name;
        }

        private static string Strip(string s) => s.StartsWith('>') ? s[1..] : s;
    }
}
