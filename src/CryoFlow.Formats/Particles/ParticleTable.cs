using CryoFlow.Formats.CryoSparc;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Star;

namespace CryoFlow.Formats.Particles;

/// <summary>
/// The particles of a STAR (RELION 3.0, 3.1/4.0, 5.0) or cryoSPARC .cs file in one model: per-particle
/// image reference, pixel size, CTF, pose and half-set, the optics groups, and the source document
/// with the block that holds the particle rows, so that writing back keeps every original column.
/// </summary>
public sealed class ParticleTable : IParticleLookup
{
    private readonly Particle[] _particles;
    private readonly OpticsGroup[] _groups;
    private readonly string[] _stacks;

    internal ParticleTable(Particle[] particles, OpticsGroup[] groups, string[] distinctStacks, StarDocument source,
        StarBlock particleBlock, StarBlock? opticsBlock, StackPathResolver stacks, bool hasCtf, bool hasPoses)
    {
        _particles = particles;
        _groups = groups;
        _stacks = distinctStacks;
        Source = source;
        ParticleBlock = particleBlock;
        OpticsBlock = opticsBlock;
        Stacks = stacks;
        HasCtf = hasCtf;
        HasPoses = hasPoses;
    }

    public IReadOnlyList<Particle> Particles => _particles;

    public int Count => _particles.Length;

    public Particle this[int index] => _particles[index];

    /// <summary>Optics groups in number order.</summary>
    public IReadOnlyList<OpticsGroup> OpticsGroups => _groups;

    /// <summary>The document read (for .cs input: the equivalent RELION 3.1 document).</summary>
    public StarDocument Source { get; }

    /// <summary>The block whose loop holds one row per particle (its <see cref="Particle.SourceRow"/>).</summary>
    public StarBlock ParticleBlock { get; }

    /// <summary>data_optics, or null for RELION 3.0 input (groups were then built from per-particle values).</summary>
    public StarBlock? OpticsBlock { get; }

    public string? SourcePath => Source.SourcePath;

    /// <summary>Whether the file has a CTF (rlnDefocusU); then every particle has one.</summary>
    public bool HasCtf { get; }

    /// <summary>Whether the file has angles or origins; then every particle has a pose.</summary>
    public bool HasPoses { get; }

    /// <summary>Each stack path as written, once, in order of first use.</summary>
    public IReadOnlyList<string> DistinctStackPaths => _stacks;

    /// <summary>Finds stack files (cached per distinct path).</summary>
    public StackPathResolver Stacks { get; }

    public OpticsGroup GetOpticsGroup(int number) =>
        Array.Find(_groups, g => g.Number == number) ?? throw new ArgumentOutOfRangeException(nameof(number), $"no optics group {number}");

    /// <summary>
    /// The full path of a particle's stack; a <see cref="DataFileNotFoundException"/> naming the
    /// particle's row and every place tried when it is nowhere.
    /// </summary>
    public string ResolveStackPath(int index) => Stacks.Resolve(_particles[index].Image.StackPath, ImageLocation(index));

    /// <summary>Where particle <paramref name="index"/>'s image reference is written: file, block, line, row, rlnImageName.</summary>
    public DataLocation ImageLocation(int index)
    {
        var t = ParticleBlock.Loop!;
        return t.Where(_particles[index].SourceRow, t.IndexOf(RelionLabels.ImageName));
    }

    /// <summary>
    /// The particles at <paramref name="indices"/>, in that order, over the same source document: writing
    /// it back gives those particles' original rows (e.g. RUN/rejected.star).
    /// </summary>
    public ParticleTable Subset(IReadOnlyList<int> indices)
    {
        var particles = new Particle[indices.Count];
        for (int i = 0; i < particles.Length; i++) particles[i] = _particles[indices[i]];
        var stacks = particles.Select(p => p.Image.StackPath).Distinct(StringComparer.Ordinal).ToArray();
        return new ParticleTable(particles, _groups, stacks, Source, ParticleBlock, OpticsBlock, Stacks, HasCtf, HasPoses);
    }

    /// <summary>
    /// This table with <paramref name="imageSize"/> as the box size of every optics group that has
    /// none (RELION 3.0 files do not record it; the stack does). Written back as rlnImageSize.
    /// </summary>
    public ParticleTable WithImageSize(int imageSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(imageSize, 1);
        var map = _groups.ToDictionary(g => g, g => g.ImageSize is null ? g with { Settings = g.Settings with { ImageSize = imageSize } } : g);
        var particles = Array.ConvertAll(_particles, p => p with { Optics = map[p.Optics] });
        return new ParticleTable(particles, _groups.Select(g => map[g]).ToArray(), _stacks, Source, ParticleBlock, OpticsBlock, Stacks, HasCtf, HasPoses);
    }

    /// <summary>Reads a STAR file, or a cryoSPARC .cs file (recognised by its NumPy magic bytes).</summary>
    public static ParticleTable Read(string path, ParticleReadOptions? options = null)
    {
        if (CryoSparcReader.LooksLikeCryoSparc(path)) return CryoSparcReader.ReadParticles(path, options);
        return FromStar(StarReader.ReadFile(path, options?.Logger), options);
    }

    /// <summary>The particle table of a STAR document (see <see cref="ParticleStarReader"/> for the rules).</summary>
    public static ParticleTable FromStar(StarDocument document, ParticleReadOptions? options = null) =>
        ParticleStarReader.Read(document, options ?? new ParticleReadOptions());

    /// <summary>Writes as RELION 3.1 (see <see cref="ParticleStarWriter"/>).</summary>
    public void WriteStar(string path, params IEnumerable<ParticleColumn> columns) => ParticleStarWriter.Write(path, this, columns);
}
