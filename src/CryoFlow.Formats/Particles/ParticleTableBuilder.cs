using CryoFlow.Formats.Star;
using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Geometry;

namespace CryoFlow.Formats.Particles;

/// <summary>
/// Builds a particle table from scratch (a simulator, the cryoSPARC reader): add optics groups, then
/// particles; <see cref="Build"/> gives a <see cref="ParticleTable"/> whose source is a RELION 3.1
/// document, ready for <see cref="ParticleStarWriter.Write"/>. The first particle decides which
/// columns exist (CTF, pose, random subset, micrograph origin); every later one must give the same. A particle's CTF
/// voltage, Cs and amplitude contrast must equal its optics group's (they are written there only).
/// </summary>
public sealed class ParticleTableBuilder
{
    private readonly string? _sourcePath;
    private readonly List<OpticsGroup> _groups = [];
    private readonly Dictionary<OpticsSettings, int> _byKey = [];
    private StarTable? _rows;
    private bool _ctf, _pose, _subset, _origin, _built;

    /// <param name="sourcePath">the STAR file the table will be written to, if known: relative stack
    /// paths then resolve against its folder before it is written</param>
    public ParticleTableBuilder(string? sourcePath = null) => _sourcePath = sourcePath;

    public int Count => _rows?.RowCount ?? 0;

    /// <summary>Adds an optics group; returns its number (1, 2, ...).</summary>
    public int AddOpticsGroup(OpticsSettings settings, string? name = null)
    {
        CheckOpen();
        int number = _groups.Count + 1;
        _groups.Add(new OpticsGroup(number, name ?? OpticsGroup.DefaultName(number), settings, _groups.Count));
        _byKey.TryAdd(settings, number);
        return number;
    }

    /// <summary>The number of the group with exactly these settings, added if new.</summary>
    public int GetOrAddOpticsGroup(OpticsSettings settings) =>
        _byKey.TryGetValue(settings, out int n) ? n : AddOpticsGroup(settings);

    /// <param name="opticsGroup">a number returned by <see cref="AddOpticsGroup"/></param>
    /// <param name="image">stack path (as it should be written) and 0-based index</param>
    /// <param name="ctf">null for no CTF columns</param>
    /// <param name="pose">angles in degrees, origins in Å; null for no pose columns</param>
    /// <param name="randomSubset">1 or 2; null for no rlnRandomSubset column</param>
    /// <param name="origin">micrograph and coordinate; null for no rlnMicrographName, rlnCoordinateX/Y columns</param>
    public void Add(int opticsGroup, ParticleRef image, CtfParameters? ctf = null, Pose? pose = null, int? randomSubset = null, ParticleOrigin? origin = null)
    {
        CheckOpen();
        if (opticsGroup < 1 || opticsGroup > _groups.Count)
            throw new ArgumentOutOfRangeException(nameof(opticsGroup), $"no optics group {opticsGroup}; add it first");
        ArgumentOutOfRangeException.ThrowIfNegative(image.Index);
        ArgumentException.ThrowIfNullOrEmpty(image.StackPath);
        StarTable.CheckValue(image.StackPath);
        if (_rows is null)
        {
            _ctf = ctf is not null;
            _pose = pose is not null;
            _subset = randomSubset is not null;
            _origin = origin is not null;
            _rows = new StarTable(ParticleRows.Columns(_ctf, _pose, _subset, _origin));
        }
        else if (_ctf != ctf is not null || _pose != pose is not null || _subset != randomSubset is not null || _origin != origin is not null)
        {
            throw new ArgumentException($"particle {_rows.RowCount} gives CTF/pose/subset/origin = {ctf is not null}/{pose is not null}/{randomSubset is not null}/{origin is not null}, "
                + $"the first gave {_ctf}/{_pose}/{_subset}/{_origin}; every particle must give the same");
        }

        var values = ParticleRows.Values(_groups[opticsGroup - 1], image, ctf, pose, randomSubset, origin);
        _rows.AddRow(values);
    }

    /// <summary>The table (a RELION 3.1 document underneath). The builder cannot be used afterwards.</summary>
    public ParticleTable Build(ParticleReadOptions? options = null)
    {
        CheckOpen();
        if (_groups.Count == 0) throw new InvalidOperationException("add an optics group first");
        _built = true;
        var doc = new StarDocument(StarVersions.Relion31) { SourcePath = _sourcePath };
        doc.Add(ParticleRows.OpticsBlock(_groups));
        doc.AddBlock("particles", _rows ?? new StarTable(ParticleRows.Columns(false, false, false)));
        return ParticleTable.FromStar(doc, options);
    }

    private void CheckOpen()
    {
        if (_built) throw new InvalidOperationException("Build() was called; start a new builder");
    }
}
