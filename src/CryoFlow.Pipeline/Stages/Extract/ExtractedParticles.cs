using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Particles;
using Serilog;

namespace CryoFlow.Pipeline.Stages.Extract;

/// <summary>
/// The particles of an <see cref="ExtractionPlan"/> as a table and an on-demand image source, without writing a
/// stack: what `cryoflow reconstruct --micrographs ...` reconstructs from. The table is what `cryoflow extract`
/// would write to particles.star (optics, micrograph name and coordinate, CTF), with each image named after the
/// stack extraction would write (&lt;micrograph&gt;_particles.mrcs), so a run's particles.star can be re-extracted
/// or matched with an extraction made later.
/// </summary>
public sealed class ExtractedParticles(ParticleTable table, ExtractedParticleSource images, long dropped, long below, IReadOnlyList<(string, string)> failed) : IDisposable
{
    public ParticleTable Table { get; } = table;

    public ExtractedParticleSource Images { get; } = images;

    public long DroppedAtEdge { get; } = dropped;

    public long BelowMinScore { get; } = below;

    /// <summary>Micrographs whose header or picks could not be read, with the reason.</summary>
    public IReadOnlyList<(string Micrograph, string Reason)> FailedMicrographs { get; } = failed;

    /// <summary>Reads every planned micrograph's header and picks (not its pixels) and lays out the particles.</summary>
    /// <exception cref="CryoFlowDataException">no particle at all</exception>
    public static ExtractedParticles Create(ExtractionPlan plan, ILogger log)
    {
        var options = plan.Options;
        var pool = new ParticlePool(options);
        var failed = new List<(string, string)>();
        foreach (var m in plan.Micrographs)
        {
            try
            {
                pool.Add(plan.Locate(m));
            }
            catch (CryoFlowDataException e)
            {
                failed.Add((m.Path, e.Message));
                log.Warning("Skipped micrograph {Micrograph}: {Reason}", m.Path, e.Message);
            }
        }
        if (pool.Count == 0)
            throw new CryoFlowDataException("no particles to extract: " + plan.Describe(), new DataLocation(Field: "coordinates", Expected: "at least one pick inside a micrograph", Found: "none"));
        log.Information("{Particles} particles from {Micrographs} micrographs, extracted as they are read (box {Box} -> {Final}); {Dropped} picks too close to an edge, {Below} below the score threshold",
            pool.Count, pool.MicrographCount, options.Box, options.FinalBox, pool.DroppedAtEdge, pool.BelowMinScore);
        var (table, images) = pool.Build(log);
        return new ExtractedParticles(table, images, pool.DroppedAtEdge, pool.BelowMinScore, failed);
    }

    public void Dispose() => Images.Dispose();
}
