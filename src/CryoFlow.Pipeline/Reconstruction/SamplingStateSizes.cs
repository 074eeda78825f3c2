using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Quadrature;
using CryoFlow.Numerics.Sampling;
using CryoFlow.Pipeline.Configuration;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>One quadrature stage of a run and the largest record a particle can leave in the state store there.</summary>
/// <param name="FullGridRecordBytes">the record after a full-grid visit that keeps every point (a first visit, or any
/// visit while the annealing temperature is high enough that no point is pruned)</param>
public sealed record StageStateSize(int Stage, int FirstIteration, double MaxFrequency, GridSize Grid, long FullGridRecordBytes);

/// <summary>
/// Sizes of the importance-sampling records <see cref="SamplingEngine"/> keeps per particle: per factor a 4-byte
/// length and a <see cref="FactorState"/> (header, then an int32 index and a float64 value per stored point).
/// </summary>
public static class SamplingStateSizes
{
    /// <summary>Bytes of one particle's record with this many stored points per factor.</summary>
    public static long RecordBytes(long directions, long inPlaneAngles, long shifts) =>
        3 * (sizeof(int) + FactorState.HeaderSize) + FactorState.BytesPerPoint * (directions + inPlaneAngles + shifts);

    /// <summary>Every stage of the configured run (resolution schedule, run.maxIterations, quadrature) for images of this box.</summary>
    public static IReadOnlyList<StageStateSize> ByStage(ReconstructConfig config, int boxSize, double pixelSize)
    {
        ArgumentNullException.ThrowIfNull(config);
        var stages = config.Resolution.Stages(pixelSize, config.Run.MaxIterations);
        var rows = new StageStateSize[stages.Count];
        for (int s = 0; s < rows.Length; s++)
        {
            var (first, w) = stages[s];
            var level = config.Quadrature.LevelAt(boxSize, pixelSize, w, s);
            var grid = new GridSize(level.Directions.Length, level.InPlaneAngles.Length, level.Shifts.Length, DiscOf(level).Count);
            rows[s] = new StageStateSize(s, first, w, grid, RecordBytes(grid.Directions, grid.InPlaneAngles, grid.Shifts));
        }
        return rows;
    }

    /// <summary>The Fourier points a level's likelihood uses: |k| &lt; r* = w* D apix, at most D/2 (as `reconstruct`).</summary>
    internal static FourierDisc DiscOf(QuadratureLevel level)
    {
        var spec = level.Spec;
        return new FourierDisc(spec.BoxSize, Math.Min(spec.MaxFrequency * spec.BoxSize * spec.PixelSize, spec.BoxSize / 2.0));
    }
}
