using CryoFlow.Formats.Particles;
using CryoFlow.Numerics.Ctf;

namespace CryoFlow.Pipeline.Stages.Extract;

/// <summary>One particle of a pool: what its particles.star row says and where its window is.</summary>
public readonly record struct PooledParticle(OpticsSettings Optics, ParticleRef Image, CtfParameters? Ctf, ParticleOrigin Origin, ParticleWindow Window);

/// <summary>
/// The particles of the micrographs seen so far, growing as micrographs are added (live mode): metadata only, a
/// few dozen bytes a particle, never pixels. <see cref="Build"/> gives a table and an on-demand image source over
/// the particles at that moment; earlier particles keep their indices as the pool grows. Thread-safe.
/// </summary>
public sealed class ParticlePool(ExtractOptions options)
{
    private readonly Lock _lock = new();
    private readonly List<string> _micrographs = [];
    private readonly List<PooledParticle> _particles = [];
    private long _dropped, _below;

    public ExtractOptions Options { get; } = options;

    public int Count
    {
        get { lock (_lock) return _particles.Count; }
    }

    public int MicrographCount
    {
        get { lock (_lock) return _micrographs.Count; }
    }

    public long DroppedAtEdge
    {
        get { lock (_lock) return _dropped; }
    }

    public long BelowMinScore
    {
        get { lock (_lock) return _below; }
    }

    /// <summary>Adds a placed micrograph's particles (only <paramref name="kept"/> when given: those extraction kept).</summary>
    /// <param name="p">the micrograph and its windows</param>
    /// <param name="kept">indices into <c>p.Particles</c>; null for all</param>
    /// <param name="stack">the stack path as rlnImageName writes it; default the name extraction gives it</param>
    /// <returns>the indices the new particles have in the pool</returns>
    public Range Add(PlannedMicrograph p, IReadOnlyList<int>? kept = null, string? stack = null)
    {
        var optics = p.Optics(Options);
        stack ??= ExtractJob.StackName(p.Input);
        lock (_lock)
        {
            _dropped += p.DroppedAtEdge;
            _below += p.BelowMinScore;
            int first = _particles.Count, n = kept?.Count ?? p.Particles.Count;
            if (n == 0) return first..first;
            int micrograph = _micrographs.Count;
            _micrographs.Add(p.Input.Path);
            for (int k = 0; k < n; k++)
            {
                int i = kept?[k] ?? k;
                var w = p.Particles[i];
                _particles.Add(new PooledParticle(optics, new ParticleRef(stack, k), p.Input.Ctf?.Ctf, p.Origin(i), new ParticleWindow(micrograph, w.X0, w.Y0)));
            }
            return first..(first + n);
        }
    }

    /// <summary>The particles now: the table (RELION 3.1: optics, image, micrograph and coordinate, CTF) and their pixels, cut on demand.</summary>
    /// <exception cref="InvalidOperationException">the pool is empty</exception>
    public (ParticleTable Table, ExtractedParticleSource Images) Build(Serilog.ILogger? log = null)
    {
        var (particles, micrographs) = Snapshot();
        var images = new ExtractedParticleSource(new ParticleExtractor(Options), micrographs, [.. particles.Select(p => p.Window)], logger: log);
        return (TableOf(particles), images);
    }

    /// <summary>The table of the particles now, without an image source (what particles.star says).</summary>
    /// <exception cref="InvalidOperationException">the pool is empty</exception>
    public ParticleTable BuildTable() => TableOf(Snapshot().Particles);

    private (PooledParticle[] Particles, string[] Micrographs) Snapshot()
    {
        lock (_lock)
        {
            if (_particles.Count == 0) throw new InvalidOperationException("the particle pool is empty");
            return ([.. _particles], [.. _micrographs]);
        }
    }

    private static ParticleTable TableOf(PooledParticle[] particles)
    {
        var builder = new ParticleTableBuilder();
        foreach (var p in particles)
            builder.Add(builder.GetOrAddOpticsGroup(p.Optics), p.Image, p.Ctf, origin: p.Origin);
        return builder.Build();
    }
}
