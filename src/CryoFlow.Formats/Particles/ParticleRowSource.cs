using CryoFlow.Formats.Star;

namespace CryoFlow.Formats.Particles;

/// <summary>Called once per output row: the source cells are <paramref name="source"/>'s row <paramref name="row"/>.</summary>
/// <param name="k">the output row, 0-based (the index into <see cref="ParticleColumn"/> values)</param>
internal delegate void ParticleRowAction(StarTable source, int row, int k, in Particle particle);

/// <summary>
/// The particle rows <see cref="ParticleStarWriter"/> writes back, in output order, with the document around them:
/// an in-memory table (<see cref="TableRows"/>), or a STAR file read a second time as a stream and rows made from
/// catalog records (<see cref="ParticleCatalog"/>), so that writing never needs every row in memory.
/// </summary>
internal abstract class ParticleRowSource
{
    /// <summary>The source document: its version and blocks in order (the particle block's loop needs only its labels).</summary>
    public abstract StarDocument Document { get; }

    public abstract StarBlock ParticleBlock { get; }

    /// <summary>data_optics, or null (the optics table is then made from <see cref="Groups"/>).</summary>
    public abstract StarBlock? OpticsBlock { get; }

    public abstract IReadOnlyList<OpticsGroup> Groups { get; }

    /// <summary>Rows to write.</summary>
    public abstract int Count { get; }

    public abstract void ForEach(ParticleRowAction action);
}

/// <summary>The rows of an in-memory <see cref="ParticleTable"/>, in its particle order.</summary>
internal sealed class TableRows(ParticleTable table) : ParticleRowSource
{
    public override StarDocument Document => table.Source;

    public override StarBlock ParticleBlock => table.ParticleBlock;

    public override StarBlock? OpticsBlock => table.OpticsBlock;

    public override IReadOnlyList<OpticsGroup> Groups => table.OpticsGroups;

    public override int Count => table.Count;

    public override void ForEach(ParticleRowAction action)
    {
        var t = table.ParticleBlock.Loop!;
        for (int k = 0; k < table.Count; k++)
        {
            var p = table[k];
            action(t, p.SourceRow, k, p);
        }
    }
}
