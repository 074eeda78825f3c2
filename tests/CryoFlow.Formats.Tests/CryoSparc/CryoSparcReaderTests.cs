using System.Globalization;
using System.Text.Json;
using CryoFlow.Formats.CryoSparc;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Tests.Particles;
using CryoFlow.Numerics.Geometry;
using CryoFlow.TestSupport;
using F = CryoFlow.Formats.Tests.CryoSparc.NpyTestWriter.Field;

namespace CryoFlow.Formats.Tests.CryoSparc;

public class CryoSparcReaderTests(CryoSparcReaderTests.NumpyFiles numpy) : IClassFixture<CryoSparcReaderTests.NumpyFiles>
{
    private const double Deg = 180.0 / Math.PI;

    private static readonly F[] ParticleFields =
    [
        new("uid", "<u8"), new("blob/path", "|S24"), new("blob/idx", "<u4"), new("blob/shape", "<u4", 2), new("blob/psize_A", "<f4"),
        new("blob/sign", "<f4"), new("ctf/accel_kv", "<f4"), new("ctf/cs_mm", "<f4"), new("ctf/amp_contrast", "<f4"),
        new("ctf/df1_A", "<f4"), new("ctf/df2_A", "<f4"), new("ctf/df_angle_rad", "<f4"), new("ctf/phase_shift_rad", "<f4"),
        new("ctf/scale", "<f4"), new("ctf/bfactor", "<f4"), new("alignments3D/pose", "<f4", 3), new("alignments3D/shift", "<f4", 2),
        new("alignments3D/psize_A", "<f4"), new("alignments3D/split", "<u4"),
    ];

    private static NpyTestWriter HandBuilt(F[]? fields = null)
    {
        var w = new NpyTestWriter(fields ?? ParticleFields);
        w.Add(11L, ">J1/imported/a.mrcs", 0L, new[] { 128.0, 128.0 }, 1.5, -1.0, 300.0, 2.7, 0.1, 15000.5, 14500.25, 0.5, Math.PI / 2, 1.0, 0.0,
            new[] { 0.0, 0.0, 0.3 }, new[] { 1.5, -2.0 }, 1.5, 0L);
        w.Add(12L, ">J1/imported/a.mrcs", 5L, new[] { 128.0, 128.0 }, 1.5, -1.0, 300.0, 2.7, 0.1, 16000.0, 15000.0, -1.0, 0.0, 0.8, 20.0,
            new[] { 0.4, -0.2, 1.1 }, new[] { 0.0, 0.25 }, 1.5, 1L);
        w.Add(13L, "J1/imported/b.mrcs", 2L, new[] { 128.0, 128.0 }, 1.5, -1.0, 200.0, 2.7, 0.1, 17000.0, 17000.0, 0.0, 0.0, 1.0, 0.0,
            new[] { 2.0, 1.0, -0.5 }, new[] { -3.0, 0.0 }, 1.5, 0L);
        return w;
    }

    private static string Save(TempDir dir, byte[] bytes, string name = "P1_J2_particles.cs")
    {
        string path = dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>The RELION matrix a cryoSPARC pose should give, from a quaternion (not from Rotation3):
    /// the transpose of the active rotation by |v| about v, which is what pyem's expmap builds.</summary>
    private static Rotation3 ExpectedRelionMatrix(double x, double y, double z)
    {
        double t = Math.Sqrt(x * x + y * y + z * z);
        if (t == 0) return Rotation3.Identity;
        double s = Math.Sin(t / 2) / t, w = Math.Cos(t / 2);
        double qx = x * s, qy = y * s, qz = z * s;
        var active = new Rotation3(
            1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - w * qz), 2 * (qx * qz + w * qy),
            2 * (qx * qy + w * qz), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - w * qx),
            2 * (qx * qz - w * qy), 2 * (qy * qz + w * qx), 1 - 2 * (qx * qx + qy * qy));
        return active.Transpose();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void HandBuiltFileBecomesAParticleTable(int major)
    {
        using var dir = new TempDir();
        string path = Save(dir, HandBuilt().ToBytes(major));
        var t = ParticleTable.Read(path);                       // recognised by its magic bytes
        Assert.Equal(3, t.Count);
        Assert.Equal(new ParticleRef("J1/imported/a.mrcs", 0), t[0].Image);   // '>' stripped, idx 0-based
        Assert.Equal(new ParticleRef("J1/imported/a.mrcs", 5), t[1].Image);
        Assert.Equal(new ParticleRef("J1/imported/b.mrcs", 2), t[2].Image);
        Assert.Equal("000006@J1/imported/a.mrcs", t.ParticleBlock.Loop!.GetString(1, "rlnImageName"));
        Assert.Equal(["J1/imported/a.mrcs", "J1/imported/b.mrcs"], t.DistinctStackPaths);
        Assert.Equal(1.5, t[0].PixelSizeAngst);
        Assert.Equal(128, t[0].Optics.ImageSize);
        Assert.Equal(2, t.OpticsGroups.Count);                 // 300 kV and 200 kV

        var c0 = t[0].Ctf!.Value;
        Assert.Equal(15000.5, c0.DefocusU);
        Assert.Equal(14500.25, c0.DefocusV);
        Assert.Equal(0.5 * Deg, c0.DefocusAngleDeg, 12);        // radians -> degrees
        Assert.Equal((double)(float)(Math.PI / 2) * Deg, c0.PhaseShiftDeg, 12);
        Assert.Equal(300, c0.VoltageKv);
        Assert.Equal(2.7, c0.SphericalAberrationMm, 6);
        Assert.Equal(0.1, c0.AmplitudeContrast, 6);
        var c1 = t[1].Ctf!.Value;
        Assert.Equal(-1.0 * Deg, c1.DefocusAngleDeg, 12);
        Assert.Equal(0.8, c1.Scale, 6);
        Assert.Equal(20, c1.BFactor);
        Assert.Equal(200, t[2].Ctf!.Value.VoltageKv);

        var p0 = t[0].Pose!.Value;
        Assert.Equal(0, p0.Angles.TiltDeg, 9);
        Assert.Equal((double)0.3f * Deg, p0.Angles.RotDeg + p0.Angles.PsiDeg, 9); // about z by a: rot + psi = a
        Assert.Equal(2.25, p0.OriginXAngst);                    // 1.5 px * 1.5 Å/px
        Assert.Equal(-3.0, p0.OriginYAngst);
        Assert.Equal(1, t[0].RandomSubset);
        Assert.Equal(2, t[1].RandomSubset);
        for (int i = 0; i < 3; i++)
        {
            double[] v = i == 1 ? [0.4f, -0.2f, 1.1f] : i == 2 ? [2.0, 1.0, -0.5] : [0, 0, 0.3f];
            Assert.True(t[i].Pose!.Value.Angles.ToMatrix().MaxAbsDifference(ExpectedRelionMatrix(v[0], v[1], v[2])) < 1e-9);
        }
    }

    [Fact]
    public void RotationAboutZGivesRotPlusPsiEqualToTheAngle()
    {
        foreach (double a in new[] { 0.1, 1.0, -2.0, 3.0 })
        {
            var e = CryoSparcReader.FromCryoSparcPose(0, 0, a);
            Assert.Equal(0, e.TiltDeg, 9);
            double diff = Math.IEEERemainder(e.RotDeg + e.PsiDeg - a * Deg, 360);
            Assert.True(Math.Abs(diff) < 1e-9, $"a = {a}: rot {e.RotDeg} + psi {e.PsiDeg}");
        }
    }

    [Fact]
    public void PosesMatchAnIndependentQuaternionComputation()
    {
        var rng = new Random(11);
        for (int i = 0; i < 200; i++)
        {
            double x = rng.NextDouble() * 4 - 2, y = rng.NextDouble() * 4 - 2, z = rng.NextDouble() * 4 - 2;
            var m = CryoSparcReader.FromCryoSparcPose(x, y, z).ToMatrix();
            Assert.True(m.MaxAbsDifference(ExpectedRelionMatrix(x, y, z)) < 1e-9);
        }
    }

    [Fact]
    public void BigEndianFieldsReadTheSame()
    {
        var big = ParticleFields.Select(f => f.Type[0] == '<' ? f with { Type = ">" + f.Type[1..] } : f).ToArray();
        using var dir = new TempDir();
        var little = ParticleTable.Read(Save(dir, HandBuilt().ToBytes(), "l.cs"));
        var bigTable = ParticleTable.Read(Save(dir, HandBuilt(big).ToBytes(), "b.cs"));
        ParticleAssert.SameParticles(little, bigTable);
    }

    [Fact]
    public void WrittenAsStarItReadsBackTheSame()
    {
        using var dir = new TempDir();
        var cs = ParticleTable.Read(Save(dir, HandBuilt().ToBytes()));
        string star = dir.File("from_cs.star");
        ParticleStarWriter.Write(star, cs);
        var back = ParticleTable.Read(star);
        ParticleAssert.SameParticles(cs, back);
        Assert.Equal("1.5", back.OpticsBlock!.Loop!.GetString(0, "rlnImagePixelSize"));   // float32 values print as written
    }

    [Fact]
    public void StackPathsResolveAgainstTheDataDir()
    {
        using var dir = new TempDir();
        string project = Directory.CreateDirectory(dir.File("project")).FullName;
        Directory.CreateDirectory(Path.Combine(project, "J1", "imported"));
        File.WriteAllBytes(Path.Combine(project, "J1", "imported", "a.mrcs"), [0]);
        var t = ParticleTable.Read(Save(dir, HandBuilt().ToBytes()), new ParticleReadOptions { DataDir = project, WorkingDirectory = dir.Path });
        Assert.Equal(Path.Combine(project, "J1", "imported", "a.mrcs"), t.ResolveStackPath(1));
        Assert.Equal(3, Assert.Throws<DataFileNotFoundException>(() => t.ResolveStackPath(2)).Tried.Count);
    }

    [Fact]
    public void FileWithoutBlobPathIsRefused()
    {
        using var dir = new TempDir();
        var w = new NpyTestWriter(new F("uid", "<u8"), new F("ctf/df1_A", "<f4")).Add(1L, 1.0);
        var e = Assert.Throws<CryoSparcFormatException>(() => CryoSparcReader.ReadParticles(Save(dir, w.ToBytes())));
        Assert.Equal("blob/path", e.Where.Field);
        Assert.Contains("passthrough", e.Message);
    }

    [Fact]
    public void TruncatedCompressedAndGarbageFilesAreTypedErrors()
    {
        using var dir = new TempDir();
        var bytes = HandBuilt().ToBytes();
        Assert.Contains("truncated", Assert.Throws<CryoSparcFormatException>(() => ParticleTable.Read(Save(dir, bytes[..^1], "t.cs"))).Message);
        Assert.Contains("CSDAT", Assert.Throws<CryoSparcFormatException>(() => ParticleTable.Read(Save(dir, [0x95, .. "CSDAT"u8, 0, 0], "c.cs"))).Message);
        var garbage = bytes.ToArray();
        garbage[12] = (byte)'#';
        Assert.IsType<CryoSparcFormatException>(Assert.ThrowsAny<CryoFlowDataException>(() => ParticleTable.Read(Save(dir, garbage, "g.cs"))));
    }

    [Fact]
    public void ShiftsWithoutAPixelSizeAreRefused()
    {
        using var dir = new TempDir();
        var w = new NpyTestWriter(new F("blob/path", "|S8"), new F("blob/idx", "<u4"), new F("alignments3D/shift", "<f4", 2)).Add("a.mrcs", 0L, new[] { 1.0, 2.0 });
        var e = Assert.Throws<CryoSparcFormatException>(() => CryoSparcReader.ReadParticles(Save(dir, w.ToBytes())));
        Assert.Equal("alignments3D/shift", e.Where.Field);
        Assert.Equal(0, e.Where.Record);
        var ok = CryoSparcReader.ReadParticles(Save(dir, w.ToBytes(), "b.cs"), new ParticleReadOptions { PixelSizeAngst = 2 });
        Assert.Equal(4.0, ok[0].Pose!.Value.OriginYAngst);
    }

    // ------------------------------------------------------------------ numpy as the independent writer

    private const string NumpyScript = """
        import json, sys
        import numpy as np
        out = sys.argv[1]
        dt = np.dtype([('uid', '<u8'), ('blob/path', 'S40'), ('blob/idx', '<u4'), ('blob/shape', '<u4', (2,)),
                       ('blob/psize_A', '<f4'), ('blob/sign', '<f4'), ('ctf/accel_kv', '<f4'), ('ctf/cs_mm', '<f4'),
                       ('ctf/amp_contrast', '<f4'), ('ctf/df1_A', '<f4'), ('ctf/df2_A', '<f4'), ('ctf/df_angle_rad', '<f4'),
                       ('ctf/phase_shift_rad', '<f4'), ('ctf/scale', '<f4'), ('ctf/bfactor', '<f4'),
                       ('alignments3D/pose', '<f4', (3,)), ('alignments3D/shift', '<f4', (2,)), ('alignments3D/psize_A', '<f4'),
                       ('alignments3D/split', '<u4'), ('alignments3D/class_posterior', '<f4')])
        rng = np.random.default_rng(7)
        n = 40
        a = np.zeros(n, dtype=dt)
        a['uid'] = rng.integers(0, 2**62, n, dtype=np.uint64)
        a['blob/path'] = [b'>J12/imported/stack_%03d.mrcs' % (i // 16) for i in range(n)]
        a['blob/idx'] = np.arange(n) % 16
        a['blob/shape'] = 200
        a['blob/psize_A'] = 1.1
        a['blob/sign'] = -1
        a['ctf/accel_kv'] = 300
        a['ctf/cs_mm'] = 2.7
        a['ctf/amp_contrast'] = 0.07
        a['ctf/df1_A'] = rng.uniform(8000, 30000, n)
        a['ctf/df2_A'] = a['ctf/df1_A'] - rng.uniform(0, 500, n)
        a['ctf/df_angle_rad'] = rng.uniform(-np.pi, np.pi, n)
        a['ctf/phase_shift_rad'] = rng.uniform(0, 1, n)
        a['ctf/scale'] = 1
        a['ctf/bfactor'] = rng.uniform(0, 50, n)
        a['alignments3D/pose'] = rng.uniform(-2, 2, (n, 3))
        a['alignments3D/shift'] = rng.uniform(-5, 5, (n, 2))
        a['alignments3D/psize_A'] = 1.1
        a['alignments3D/split'] = np.arange(n) % 2
        np.save(out + '/v1.cs.npy', a)
        for v in (1, 2, 3):
            with open(out + '/v%d.cs' % v, 'wb') as f:
                np.lib.format.write_array(f, a, version=(v, 0))
        rec = []
        for r in a:
            rec.append({'path': r['blob/path'].decode(), 'idx': int(r['blob/idx']), 'box': int(r['blob/shape'][0]),
                        'psize': float(r['blob/psize_A']), 'kv': float(r['ctf/accel_kv']), 'cs': float(r['ctf/cs_mm']),
                        'q0': float(r['ctf/amp_contrast']), 'df1': float(r['ctf/df1_A']), 'df2': float(r['ctf/df2_A']),
                        'ang': float(r['ctf/df_angle_rad']), 'phase': float(r['ctf/phase_shift_rad']), 'b': float(r['ctf/bfactor']),
                        'pose': [float(x) for x in r['alignments3D/pose']], 'shift': [float(x) for x in r['alignments3D/shift']],
                        'apsize': float(r['alignments3D/psize_A']), 'split': int(r['alignments3D/split'])})
        json.dump(rec, open(out + '/expected.json', 'w'))
        """;

    /// <summary>Files numpy writes, made once for the class; null folder when numpy is missing.</summary>
    public sealed class NumpyFiles : IDisposable
    {
        private readonly TempDir _dir = new();
        private readonly Lazy<(string? Folder, string Problem)> _made;

        public NumpyFiles() => _made = new(Make);

        /// <summary>The folder with v1.cs, v2.cs, v3.cs, v1.cs.npy and expected.json; skips the test without numpy.</summary>
        public string Folder
        {
            get
            {
                var (folder, problem) = _made.Value;
                if (folder is null) return Peers.Require(null, problem);
                return folder;
            }
        }

        private (string?, string) Make()
        {
            string? python = new[] { "/usr/bin/python3", Peers.Which("python3") ?? "" }
                .FirstOrDefault(py => py.Length > 0 && File.Exists(py) && Peers.Run(py, ["-c", "import numpy"], timeoutMs: 60_000).ExitCode == 0);
            if (python is null) return (null, "python3-numpy");
            string script = _dir.File("make.py");
            File.WriteAllText(script, NumpyScript);
            var run = Peers.Run(python, [script, _dir.Path], timeoutMs: 120_000);
            Assert.True(run.ExitCode == 0, run.ToString());
            return (_dir.Path, "");
        }

        public void Dispose() => _dir.Dispose();
    }

    [Theory]
    [InlineData("v1.cs")]
    [InlineData("v2.cs")]
    [InlineData("v3.cs")]
    [InlineData("v1.cs.npy")]
    public void NumpyWrittenFilesMatchNumpysOwnValuesFieldByField(string file)
    {
        string folder = numpy.Folder;
        var expected = JsonSerializer.Deserialize<JsonElement[]>(File.ReadAllText(Path.Combine(folder, "expected.json")))!;

        var t = CryoSparcReader.ReadParticles(Path.Combine(folder, file));
        Assert.Equal(expected.Length, t.Count);
        for (int i = 0; i < t.Count; i++)
        {
            var e = expected[i];
            double D(string k) => e.GetProperty(k).GetDouble();
            double[] A(string k) => e.GetProperty(k).EnumerateArray().Select(x => x.GetDouble()).ToArray();
            var p = t[i];
            Assert.StartsWith(">", e.GetProperty("path").GetString());
            Assert.Equal(e.GetProperty("path").GetString()![1..], p.Image.StackPath);
            Assert.Equal(e.GetProperty("idx").GetInt32(), p.Image.Index);
            Assert.Equal(e.GetProperty("box").GetInt32(), p.Optics.ImageSize);
            Near(D("psize"), p.PixelSizeAngst!.Value);
            var c = p.Ctf!.Value;
            Near(D("kv"), c.VoltageKv);
            Near(D("cs"), c.SphericalAberrationMm);
            Near(D("q0"), c.AmplitudeContrast);
            Near(D("df1"), c.DefocusU);
            Near(D("df2"), c.DefocusV);
            Near(D("ang") * Deg, c.DefocusAngleDeg);
            Near(D("phase") * Deg, c.PhaseShiftDeg);
            Near(D("b"), c.BFactor);
            var pose = A("pose");
            Assert.True(p.Pose!.Value.Angles.ToMatrix().MaxAbsDifference(ExpectedRelionMatrix(pose[0], pose[1], pose[2])) < 1e-9, $"particle {i}");
            var shift = A("shift");
            Near(shift[0] * D("apsize"), p.Pose.Value.OriginXAngst);
            Near(shift[1] * D("apsize"), p.Pose.Value.OriginYAngst);
            Assert.Equal(e.GetProperty("split").GetInt32() + 1, p.RandomSubset);
        }
    }

    /// <summary>Float32 values print as their shortest float text; read back they differ by less than float resolution.</summary>
    private static void Near(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-6 * Math.Max(1, Math.Abs(expected)), $"expected {expected.ToString(CultureInfo.InvariantCulture)}, found {actual.ToString(CultureInfo.InvariantCulture)}");
}
