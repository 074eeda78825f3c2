using System.Buffers.Binary;
using CryoFlow.Formats.CryoSparc;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Star;
using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Geometry;
using Microsoft.Win32.SafeHandles;

namespace CryoFlow.Formats.Particles;

/// <summary>What <see cref="ParticleImageReader"/> needs of a particle list: a particle, its stack file and where it is written.</summary>
public interface IParticleLookup
{
    int Count { get; }

    Particle this[int index] { get; }

    /// <summary>The full path of particle <paramref name="index"/>'s stack (a <see cref="DataFileNotFoundException"/> when it is nowhere).</summary>
    string ResolveStackPath(int index);

    /// <summary>Where particle <paramref name="index"/>'s image reference is written: file, block, line, row, rlnImageName.</summary>
    DataLocation ImageLocation(int index);
}

/// <summary>
/// The particles of a run kept on disk, so that resident memory does not grow with their number: one fixed-size
/// binary record per particle (stack and micrograph as indices into de-duplicated path lists, image index, optics
/// group, pixel size, CTF, pose, half-set, source row and line) in a scratch file of the temp folder (unlinked as soon
/// as it is open on Unix, deleted on close on Windows, so nothing is left however the process ends), read back by
/// position (<see cref="RandomAccess"/>, not a memory map, whose pages would count as resident) through a small page
/// cache. Records can be appended while the catalog is read (a live run's pool grows).
/// <para>Writing back (<see cref="WriteStar"/>) keeps every original column: a STAR file is read a second time as a
/// stream and its rows rewritten one at a time; particles appended in memory (a bare stack, extracted particles) are
/// written in <see cref="ParticleTableBuilder"/>'s layout; a cryoSPARC table stays in memory as it is read.</para>
/// Thread-safe: reads from any number of threads, appends from one at a time.
/// </summary>
public sealed class ParticleCatalog : IParticleLookup, IDisposable
{
    /// <summary>Bytes per record (see <see cref="Encode"/>).</summary>
    public const int RecordSize = 168;

    private const int PageRecords = 64;
    private const int CachedPages = 32;
    private const int TailRecords = 256;

    private const int HasApix = 1, HasCtfFlag = 2, HasPoseFlag = 4, HasSubset = 8, HasOrigin = 16;

    private readonly ParticleTable? _table;
    private readonly SafeFileHandle? _file;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, byte[]> _pages = [];
    private readonly Queue<int> _pageOrder = new();
    private readonly byte[] _tail = new byte[TailRecords * RecordSize];
    private int _tailCount;
    private int _flushed;
    private readonly List<OpticsGroup> _groups = [];
    private readonly Dictionary<OpticsGroup, int> _groupIds = new(ReferenceEqualityComparer.Instance);
    private readonly PathList _stacks = new(), _micrographs = new();
    private readonly HashSet<double?> _pixelSizes = [];
    private StreamedSource? _streamed;
    private GeneratedSource? _generated;

    private ParticleCatalog(ParticleTable table, StackPathResolver resolver)
    {
        _table = table;
        Stacks = resolver;
        SourcePath = table.SourcePath;
        (HasCtf, HasPoses) = (table.HasCtf, table.HasPoses);
        foreach (var g in table.OpticsGroups) GroupId(g);
        foreach (var p in table.Particles) _pixelSizes.Add(p.PixelSizeAngst);
    }

    private ParticleCatalog(string? sourcePath, StackPathResolver resolver)
    {
        SourcePath = sourcePath;
        Stacks = resolver;
        string scratch = Path.Combine(Path.GetTempPath(), $"cryoflow-catalog-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
        if (OperatingSystem.IsWindows())
            _file = File.OpenHandle(scratch, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
        else
        {
            // unlinked at once: the open handle keeps the data, and the system frees it however the process ends (a kill too)
            _file = File.OpenHandle(scratch, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
            File.Delete(scratch);
        }
    }

    /// <summary>Particles: the records written so far.</summary>
    public int Count
    {
        get { lock (_lock) return _table?.Count ?? _flushed + _tailCount; }
    }

    /// <summary>The particle file (STAR or .cs), the bare stack, or null.</summary>
    public string? SourcePath { get; }

    /// <summary>Whether every particle has a CTF.</summary>
    public bool HasCtf { get; private set; }

    /// <summary>Whether every particle has a pose from its file.</summary>
    public bool HasPoses { get; private set; }

    /// <summary>Finds stack files (cached per distinct path).</summary>
    public StackPathResolver Stacks { get; }

    /// <summary>Optics groups in number order.</summary>
    public IReadOnlyList<OpticsGroup> OpticsGroups
    {
        get { lock (_lock) return _groups.OrderBy(g => g.Number).ToArray(); }
    }

    /// <summary>The distinct pixel sizes of the particles (null: a particle with none).</summary>
    public IReadOnlyList<double?> PixelSizes
    {
        get { lock (_lock) return _pixelSizes.ToArray(); }
    }

    /// <summary>The distinct stack paths as written.</summary>
    public int StackCount
    {
        get { lock (_lock) return _stacks.Count; }
    }

    // ------------------------------------------------------------------ opening

    /// <summary>
    /// Reads a STAR file in one streamed pass (memory independent of the number of particles), or a cryoSPARC .cs file
    /// (recognised by its NumPy magic; kept as its in-memory table). The rules are <see cref="ParticleTable.Read"/>'s.
    /// </summary>
    public static ParticleCatalog Read(string path, ParticleReadOptions? options = null)
    {
        options ??= new ParticleReadOptions();
        if (CryoSparcReader.LooksLikeCryoSparc(path)) return FromTable(CryoSparcReader.ReadParticles(path, options));
        var catalog = new ParticleCatalog(path, ParticleStarReader.Resolver(path, options));
        try
        {
            catalog._streamed = StreamedSource.Read(catalog, path, options);
            return catalog;
        }
        catch
        {
            catalog.Dispose();
            throw;
        }
    }

    /// <summary>An in-memory table as a catalog (its rows are written back from memory).</summary>
    public static ParticleCatalog FromTable(ParticleTable table) => new(table, table.Stacks);

    /// <summary>
    /// An empty catalog to <see cref="Append"/> particles to (a bare stack, particles extracted from micrographs); written
    /// back as a new RELION 3.1 file in <see cref="ParticleTableBuilder"/>'s layout. Every particle must give the CTF,
    /// pose, half-set and origin that the flags say, and use one of <paramref name="groups"/>.
    /// </summary>
    /// <param name="groups">optics groups numbered 1, 2, ... in this order (more can be added: <see cref="GetOrAddOpticsGroup"/>)</param>
    /// <param name="sourcePath">the file messages name (e.g. the bare stack)</param>
    public static ParticleCatalog Create(IReadOnlyList<OpticsSettings> groups, bool hasCtf, bool hasPoses, bool hasRandomSubset, bool hasOrigin,
        string? sourcePath, StackPathResolver resolver)
    {
        var catalog = new ParticleCatalog(sourcePath, resolver) { HasCtf = hasCtf, HasPoses = hasPoses };
        catalog._generated = new GeneratedSource(catalog, hasCtf, hasPoses, hasRandomSubset, hasOrigin);
        foreach (var g in groups) catalog.GetOrAddOpticsGroup(g);
        return catalog;
    }

    /// <summary>The optics group of a <see cref="Create"/>d catalog with exactly these settings, added (numbered next) if new.</summary>
    public OpticsGroup GetOrAddOpticsGroup(OpticsSettings settings)
    {
        if (_generated is null) throw new InvalidOperationException("only a created catalog takes new optics groups");
        lock (_lock)
        {
            var g = _groups.Find(x => x.Settings == settings);
            if (g is not null) return g;
            int n = _groups.Count;
            g = new OpticsGroup(n + 1, OpticsGroup.DefaultName(n + 1), settings, n);
            GroupId(g);
            return g;
        }
    }

    // ------------------------------------------------------------------ records

    /// <summary>The optics group of a particle of a <see cref="Create"/>d catalog, by number.</summary>
    public OpticsGroup Group(int number)
    {
        lock (_lock) return _groups.Find(g => g.Number == number) ?? throw new ArgumentOutOfRangeException(nameof(number), $"no optics group {number}");
    }

    /// <summary>
    /// Adds a particle (its <see cref="Particle.SourceRow"/> is its position). For a <see cref="Create"/>d catalog,
    /// <paramref name="origin"/> is its micrograph and coordinate when the catalog was created with origins.
    /// </summary>
    public void Append(in Particle particle, ParticleOrigin? origin = null) => Append(particle, origin, 0);

    /// <param name="line">the 1-based line of the particle's row in <see cref="SourcePath"/>, or 0</param>
    private void Append(in Particle particle, ParticleOrigin? origin, int line)
    {
        if (_table is not null) throw new InvalidOperationException("a catalog over an in-memory table cannot grow");
        _generated?.Check(particle, origin);
        var record = new byte[RecordSize];
        lock (_lock)
        {
            Encode(particle, origin, GroupId(particle.Optics), _stacks.Id(particle.Image.StackPath), origin is ParticleOrigin o ? _micrographs.Id(o.MicrographName) : -1,
                line, record);
            record.CopyTo(_tail.AsSpan(_tailCount * RecordSize));
            _tailCount++;
            _pixelSizes.Add(particle.PixelSizeAngst);
            if (_tailCount == TailRecords) FlushTail();
        }
    }

    /// <summary>Writes appended records to the scratch file (reads see them either way).</summary>
    public void Flush()
    {
        lock (_lock) FlushTail();
    }

    public Particle this[int index]
    {
        get
        {
            if (_table is not null) return _table[index];
            lock (_lock) return Decode(Record(index));
        }
    }

    /// <summary>A particle's micrograph and coordinate, when it was appended with them.</summary>
    public ParticleOrigin? OriginOf(int index)
    {
        if (_table is not null) return null;
        lock (_lock)
        {
            var r = Record(index);
            if ((BinaryPrimitives.ReadInt32LittleEndian(r[12..]) & HasOrigin) == 0) return null;
            return new ParticleOrigin(_micrographs[BinaryPrimitives.ReadInt32LittleEndian(r[28..])], D(r, 152), D(r, 160));
        }
    }

    /// <summary>CTF of a particle, or null.</summary>
    public CtfParameters? CtfOf(int index) => this[index].Ctf;

    public string ResolveStackPath(int index) => Stacks.Resolve(this[index].Image.StackPath, ImageLocation(index));

    public DataLocation ImageLocation(int index)
    {
        if (_table is not null) return _table.ImageLocation(index);
        int line, row;
        lock (_lock)
        {
            var r = Record(index);
            line = BinaryPrimitives.ReadInt32LittleEndian(r[24..]);
            row = BinaryPrimitives.ReadInt32LittleEndian(r[20..]);
        }
        return new DataLocation(FilePath: SourcePath, Block: _streamed?.BlockName, Line: line > 0 ? line : null, Record: row, Field: RelionLabels.ImageName);
    }

    /// <summary>The record of a particle; valid while the lock is held.</summary>
    private ReadOnlySpan<byte> Record(int index)
    {
        if ((uint)index >= (uint)(_flushed + _tailCount)) throw new ArgumentOutOfRangeException(nameof(index), $"particle {index} of {_flushed + _tailCount}");
        if (index >= _flushed) return _tail.AsSpan((index - _flushed) * RecordSize, RecordSize);
        int page = index / PageRecords;
        if (!_pages.TryGetValue(page, out var bytes))
        {
            int records = Math.Min(PageRecords, _flushed - page * PageRecords);
            bytes = new byte[records * RecordSize];
            long at = (long)page * PageRecords * RecordSize;
            for (int done = 0; done < bytes.Length;)
            {
                int n = RandomAccess.Read(_file!, bytes.AsSpan(done), at + done);
                if (n == 0) throw new IOException($"the particle catalog's scratch file ends at byte {at + done}, before particle {index}'s record");
                done += n;
            }
            if (_pages.Count >= CachedPages) _pages.Remove(_pageOrder.Dequeue());
            _pages.Add(page, bytes);
            _pageOrder.Enqueue(page);
        }
        return bytes.AsSpan((index - page * PageRecords) * RecordSize, RecordSize);
    }

    private void FlushTail()
    {
        if (_tailCount == 0) return;
        RandomAccess.Write(_file!, _tail.AsSpan(0, _tailCount * RecordSize), (long)_flushed * RecordSize);
        // the last page read may have been partial
        int partial = _flushed / PageRecords;
        if (_pages.Remove(partial))
        {
            var kept = _pageOrder.Where(p => p != partial).ToArray();
            _pageOrder.Clear();
            foreach (int p in kept) _pageOrder.Enqueue(p);
        }
        _flushed += _tailCount;
        _tailCount = 0;
    }

    private int GroupId(OpticsGroup g)
    {
        if (_groupIds.TryGetValue(g, out int id)) return id;
        id = _groups.Count;
        _groups.Add(g);
        _groupIds.Add(g, id);
        return id;
    }

    /// <summary>
    /// Layout (little-endian): 0 stack id, 4 image index, 8 optics group id, 12 flags, 16 half-set, 20 source row,
    /// 24 source line, 28 micrograph id (int32 each); 32 pixel size; 40 CTF (defocus U, V, angle, kV, Cs, Q0, phase,
    /// B, scale); 112 pose (rot, tilt, psi, origin x, origin y); 152 coordinate x, y (doubles).
    /// </summary>
    private static void Encode(in Particle p, ParticleOrigin? origin, int group, int stack, int micrograph, int line, Span<byte> r)
    {
        int flags = (p.PixelSizeAngst is null ? 0 : HasApix) | (p.Ctf is null ? 0 : HasCtfFlag) | (p.Pose is null ? 0 : HasPoseFlag)
            | (p.RandomSubset is null ? 0 : HasSubset) | (origin is null ? 0 : HasOrigin);
        BinaryPrimitives.WriteInt32LittleEndian(r, stack);
        BinaryPrimitives.WriteInt32LittleEndian(r[4..], p.Image.Index);
        BinaryPrimitives.WriteInt32LittleEndian(r[8..], group);
        BinaryPrimitives.WriteInt32LittleEndian(r[12..], flags);
        BinaryPrimitives.WriteInt32LittleEndian(r[16..], p.RandomSubset ?? 0);
        BinaryPrimitives.WriteInt32LittleEndian(r[20..], p.SourceRow);
        BinaryPrimitives.WriteInt32LittleEndian(r[24..], line);
        BinaryPrimitives.WriteInt32LittleEndian(r[28..], micrograph);
        W(r, 32, p.PixelSizeAngst ?? 0);
        if (p.Ctf is CtfParameters c)
        {
            W(r, 40, c.DefocusU); W(r, 48, c.DefocusV); W(r, 56, c.DefocusAngleDeg); W(r, 64, c.VoltageKv); W(r, 72, c.SphericalAberrationMm);
            W(r, 80, c.AmplitudeContrast); W(r, 88, c.PhaseShiftDeg); W(r, 96, c.BFactor); W(r, 104, c.Scale);
        }
        if (p.Pose is Pose q)
        {
            W(r, 112, q.Angles.RotDeg); W(r, 120, q.Angles.TiltDeg); W(r, 128, q.Angles.PsiDeg); W(r, 136, q.OriginXAngst); W(r, 144, q.OriginYAngst);
        }
        if (origin is ParticleOrigin o) { W(r, 152, o.CoordinateX); W(r, 160, o.CoordinateY); }
    }

    private Particle Decode(ReadOnlySpan<byte> r)
    {
        int flags = BinaryPrimitives.ReadInt32LittleEndian(r[12..]);
        var image = new ParticleRef(_stacks[BinaryPrimitives.ReadInt32LittleEndian(r)], BinaryPrimitives.ReadInt32LittleEndian(r[4..]));
        CtfParameters? ctf = (flags & HasCtfFlag) == 0 ? null
            : new CtfParameters(D(r, 40), D(r, 48), D(r, 56), D(r, 64), D(r, 72), D(r, 80), D(r, 88), D(r, 96), D(r, 104));
        Pose? pose = (flags & HasPoseFlag) == 0 ? null : new Pose(new EulerAngles(D(r, 112), D(r, 120), D(r, 128)), D(r, 136), D(r, 144));
        return new Particle(image, _groups[BinaryPrimitives.ReadInt32LittleEndian(r[8..])], (flags & HasApix) == 0 ? null : D(r, 32), ctf, pose,
            (flags & HasSubset) == 0 ? null : BinaryPrimitives.ReadInt32LittleEndian(r[16..]), BinaryPrimitives.ReadInt32LittleEndian(r[20..]));
    }

    private static void W(Span<byte> r, int at, double v) => BinaryPrimitives.WriteDoubleLittleEndian(r[at..], v);

    private static double D(ReadOnlySpan<byte> r, int at) => BinaryPrimitives.ReadDoubleLittleEndian(r[at..]);

    // ------------------------------------------------------------------ writing back

    /// <summary>Writes the particles as RELION 3.1 (atomically; see <see cref="ParticleStarWriter"/>), streamed.</summary>
    public void WriteStar(string path, params IEnumerable<ParticleColumn> columns) => ParticleStarWriter.Write(path, Rows(null), columns);

    /// <summary>Writes the particles at <paramref name="indices"/> (ascending), e.g. RUN/rejected.star; column values are in that order.</summary>
    public void WriteStar(string path, IReadOnlyList<int> indices, params IEnumerable<ParticleColumn> columns)
    {
        for (int i = 1; i < indices.Count; i++)
            if (indices[i] <= indices[i - 1]) throw new ArgumentException("indices must be ascending", nameof(indices));
        ParticleStarWriter.Write(path, Rows(indices), columns);
    }

    private ParticleRowSource Rows(IReadOnlyList<int>? indices)
    {
        if (_table is not null) return new TableRows(indices is null ? _table : _table.Subset(indices));
        Flush();
        return _streamed is not null ? _streamed.Rows(indices) : _generated!.Rows(indices);
    }

    public void Dispose() => _file?.Dispose();

    /// <summary>Paths as written, one instance each, numbered in order of first use.</summary>
    private sealed class PathList
    {
        private readonly List<string> _list = [];
        private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

        public int Count => _list.Count;

        public string this[int id] => _list[id];

        public int Id(string path)
        {
            if (_ids.TryGetValue(path, out int id)) return id;
            _ids.Add(path, _list.Count);
            _list.Add(path);
            return _list.Count - 1;
        }
    }

    /// <summary>Rows of a STAR file read a second time as a stream (the file must not have changed).</summary>
    private sealed class StreamedSource : ParticleRowSource
    {
        private readonly ParticleCatalog _catalog;
        private readonly string _path;
        private readonly int _blockIndex;
        private readonly (long Length, DateTime Written) _stamp;
        private readonly IReadOnlyList<int>? _indices;

        private StreamedSource(ParticleCatalog catalog, string path, StarDocument doc, int blockIndex, StarBlock? optics, (long, DateTime) stamp, IReadOnlyList<int>? indices)
        {
            _catalog = catalog;
            _path = path;
            Document = doc;
            _blockIndex = blockIndex;
            ParticleBlock = doc.Blocks[blockIndex];
            OpticsBlock = optics;
            _stamp = stamp;
            _indices = indices;
        }

        public string BlockName => ParticleBlock.Name;

        public override StarDocument Document { get; }

        public override StarBlock ParticleBlock { get; }

        public override StarBlock? OpticsBlock { get; }

        public override IReadOnlyList<OpticsGroup> Groups => _catalog.OpticsGroups;

        public override int Count => _indices?.Count ?? _catalog.Count;

        public ParticleRowSource Rows(IReadOnlyList<int>? indices) => new StreamedSource(_catalog, _path, Document, _blockIndex, OpticsBlock, _stamp, indices);

        private static (long, DateTime) Stamp(string path)
        {
            var info = new FileInfo(path);
            return (info.Length, info.LastWriteTimeUtc);
        }

        /// <summary>
        /// One pass that picks the particle loop as <see cref="ParticleStarReader"/> does (data_particles, else the first
        /// other loop with rlnImageName) when it reaches it; a second pass when a better choice, or data_optics, came
        /// only after it.
        /// </summary>
        public static StreamedSource Read(ParticleCatalog catalog, string path, ParticleReadOptions options)
        {
            var stamp = Stamp(path);
            var first = Pass(catalog, path, options, null, null);
            var doc = first.Doc;
            var optics = ParticleStarReader.FindOpticsBlock(doc);
            var block = ParticleStarReader.FindParticleBlock(doc, optics);
            int index = IndexOf(doc, block);
            if (index != first.Streamed || (optics is not null && !first.SawOptics))
            {
                catalog.Reset();
                first = Pass(catalog, path, options, index, optics);
                doc = first.Doc;
                optics = ParticleStarReader.FindOpticsBlock(doc);
            }
            if (Stamp(path) != stamp) throw Changed(path);
            return new StreamedSource(catalog, path, doc, index, optics, stamp, null);
        }

        private static int IndexOf(StarDocument doc, StarBlock block)
        {
            for (int i = 0; i < doc.Blocks.Count; i++)
                if (doc.Blocks[i] == block) return i;
            return -1;
        }

        private static (StarDocument Doc, int Streamed, bool SawOptics) Pass(ParticleCatalog catalog, string path, ParticleReadOptions options, int? fixedIndex, StarBlock? knownOptics)
        {
            int streamed = -1;
            bool sawOptics = false;
            ParticleStarReader.RowParser? rows = null;
            var doc = StarReader.ReadStreaming(path, (d, b) =>
            {
                int at = d.Blocks.Count - 1;
                bool take = fixedIndex is int k ? at == k
                    : streamed < 0 && b.Loop is not null && (b.Name == "particles" || (b.Name != "optics" && b.Loop.Contains(RelionLabels.ImageName)));
                if (!take) return false;
                streamed = at;
                var optics = knownOptics ?? ParticleStarReader.FindOpticsBlock(d);
                sawOptics = optics is not null;
                b.Loop!.RequireColumn(RelionLabels.ImageName);
                rows = new ParticleStarReader.RowParser(b.Loop, optics, options);
                catalog.HasCtf = rows.HasCtf;
                catalog.HasPoses = rows.HasPoses;
                return true;
            }, t =>
            {
                catalog.Append(rows!.Parse(t, 0, checked((int)t.RecordBase)), null, (int)(t.LineOf(0) ?? 0));
            }, options.Logger);
            catalog.Flush();
            return (doc, streamed, sawOptics);
        }

        public override void ForEach(ParticleRowAction action)
        {
            if (Stamp(_path) != _stamp) throw Changed(_path);
            int k = 0;
            StarReader.ReadStreaming(_path, (d, _) => d.Blocks.Count - 1 == _blockIndex, t =>
            {
                long record = t.RecordBase;
                if (_indices is not null && (k >= _indices.Count || _indices[k] != record)) return;
                if (record >= _catalog.Count) throw Changed(_path);
                action(t, 0, k++, _catalog[(int)record]);
            });
            if (k != Count) throw Changed(_path);
        }

        private static CryoFlowDataException Changed(string path) =>
            new("the particle file changed while the run was using it; its rows are read again to write the results", new DataLocation(FilePath: path));
    }

    private void Reset()
    {
        lock (_lock)
        {
            _flushed = 0;
            _tailCount = 0;
            _pages.Clear();
            _pageOrder.Clear();
            _pixelSizes.Clear();
            _groups.Clear();
            _groupIds.Clear();
        }
    }

    /// <summary>Rows made from the records, in <see cref="ParticleTableBuilder"/>'s layout.</summary>
    private sealed class GeneratedSource : ParticleRowSource
    {
        private readonly ParticleCatalog _catalog;
        private readonly bool _ctf, _pose, _subset, _origin;
        private readonly IReadOnlyList<int>? _indices;
        private readonly OpticsGroup[] _groups = [];

        public GeneratedSource(ParticleCatalog catalog, bool ctf, bool pose, bool subset, bool origin)
        {
            _catalog = catalog;
            (_ctf, _pose, _subset, _origin) = (ctf, pose, subset, origin);
            Document = new StarDocument(StarVersions.Relion31);
            ParticleBlock = Document.AddBlock("particles", new StarTable(ParticleRows.Columns(ctf, pose, subset, origin)));
        }

        /// <summary>The rows to write now: the optics groups so far, then the particles (at <paramref name="indices"/>).</summary>
        private GeneratedSource(GeneratedSource of, IReadOnlyList<int>? indices)
        {
            _catalog = of._catalog;
            (_ctf, _pose, _subset, _origin) = (of._ctf, of._pose, of._subset, of._origin);
            _indices = indices;
            _groups = [.. _catalog.OpticsGroups];
            Document = new StarDocument(StarVersions.Relion31) { SourcePath = _catalog.SourcePath };
            OpticsBlock = Document.Add(ParticleRows.OpticsBlock(_groups));
            ParticleBlock = Document.AddBlock("particles", new StarTable(ParticleRows.Columns(_ctf, _pose, _subset, _origin)));
        }

        public override StarDocument Document { get; }

        public override StarBlock ParticleBlock { get; }

        public override StarBlock? OpticsBlock { get; }

        public override IReadOnlyList<OpticsGroup> Groups => _groups;

        public override int Count => _indices?.Count ?? _catalog.Count;

        public ParticleRowSource Rows(IReadOnlyList<int>? indices)
        {
            var rows = new GeneratedSource(this, indices);
            if (rows._groups.Length == 0) throw new InvalidOperationException("the catalog has no optics group");
            return rows;
        }

        public void Check(in Particle p, ParticleOrigin? origin)
        {
            if (_ctf != p.Ctf is not null || _pose != p.Pose is not null || _subset != p.RandomSubset is not null || _origin != origin is not null)
                throw new ArgumentException($"particle {_catalog.Count} gives CTF/pose/subset/origin = {p.Ctf is not null}/{p.Pose is not null}/{p.RandomSubset is not null}/{origin is not null}, "
                    + $"the catalog was created for {_ctf}/{_pose}/{_subset}/{_origin}");
            if (!_catalog.OpticsGroups.Contains(p.Optics)) throw new ArgumentException($"optics group {p.Optics.Number} is not one of the catalog's", nameof(p));
            StarTable.CheckValue(p.Image.StackPath);
        }

        public override void ForEach(ParticleRowAction action)
        {
            var t = new StarTable(ParticleRows.Columns(_ctf, _pose, _subset, _origin));
            int n = Count;
            for (int k = 0; k < n; k++)
            {
                int i = _indices?[k] ?? k;
                var p = _catalog[i];
                t.AddRow(ParticleRows.Values(p.Optics, p.Image, p.Ctf, p.Pose, p.RandomSubset, _catalog.OriginOf(i)));
                action(t, 0, k, p);
                t.DropRows();
            }
        }
    }
}
