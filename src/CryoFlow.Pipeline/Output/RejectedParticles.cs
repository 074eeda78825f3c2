using CryoFlow.Formats.Particles;

namespace CryoFlow.Pipeline.Output;

/// <summary>
/// Particles set aside during a run (unreadable, non-finite, wrong size), each with the reason. They
/// are written to RUN/rejected.star as their original rows plus a <c>rlnCryoFlowRejectReason</c>
/// column, so the file can be inspected, fixed and fed back. Thread-safe.
/// </summary>
public sealed class RejectedParticles
{
    /// <summary>The STAR column that carries the reason (RELION ignores unknown columns with a warning).</summary>
    public const string ReasonLabel = "rlnCryoFlowRejectReason";

    private readonly Dictionary<int, string> _reasons = [];
    private readonly Lock _lock = new();

    /// <summary>Records a rejection; the first reason for a particle is kept.</summary>
    /// <returns>true when the particle was not rejected before</returns>
    public bool Add(int particle, string reason)
    {
        lock (_lock) return _reasons.TryAdd(particle, reason);
    }

    public bool Contains(int particle)
    {
        lock (_lock) return _reasons.ContainsKey(particle);
    }

    public int Count
    {
        get { lock (_lock) return _reasons.Count; }
    }

    /// <summary>(particle, reason) in particle order.</summary>
    public IReadOnlyList<(int Particle, string Reason)> Snapshot()
    {
        lock (_lock) return _reasons.OrderBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value)).ToArray();
    }

    /// <summary>Writes the rejected particles' rows (atomically); nothing is written when there are none.</summary>
    public void Write(string path, ParticleTable table) => Write(path, ParticleCatalog.FromTable(table));

    /// <summary>Writes the rejected particles' rows (atomically, the source rows streamed); nothing is written when there are none.</summary>
    public void Write(string path, ParticleCatalog catalog)
    {
        var list = Snapshot();
        if (list.Count == 0) return;
        catalog.WriteStar(path, list.Select(r => r.Particle).ToArray(), ParticleColumn.FromStrings(ReasonLabel, list.Select(r => r.Reason).ToArray()));
    }
}
