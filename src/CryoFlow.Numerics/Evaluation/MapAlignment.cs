using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Projection;
using CryoFlow.Numerics.Quadrature;

namespace CryoFlow.Numerics.Evaluation;

/// <summary>
/// Settings of <see cref="MapAlignment.Align"/>. Radii are in Fourier pixels of the maps' box D (a radius r
/// compares the maps at resolution D * voxel size / r), so the defaults suit any box.
/// </summary>
public sealed record MapAlignmentOptions
{
    public static MapAlignmentOptions Default { get; } = new();

    /// <summary>Spacing of the global rotation grid, degrees (about 4 pi / step^2 directions x 360 / step in-plane angles).</summary>
    public double GlobalStepDeg { get; init; } = 15;

    /// <summary>Resolution of the global search, Fourier pixels (capped at D/2 - 1).</summary>
    public int GlobalRadius { get; init; } = 7;

    /// <summary>Resolution of the final refinement, Fourier pixels (capped at D/2 - 1).</summary>
    public int RefineRadius { get; init; } = 31;

    /// <summary>
    /// Distinct global-search peaks refined per hand. The global search sees only low resolution, where a map can be
    /// nearly symmetric (a blob turns freely about its axis); enough peaks along such a ridge let the finer levels
    /// pick the pose that the fine detail decides.
    /// </summary>
    public int CandidatesPerHand { get; init; } = 12;

    /// <summary>
    /// Whiten both maps shell by shell before correlating (<see cref="ShellWeights.Whitening"/>): every shell up to
    /// the level's radius counts by its number of coefficients, as in an FSC, instead of by its power, which the
    /// lowest shells dominate. False scores the plain correlation.
    /// </summary>
    public bool Whiten { get; init; } = true;

    /// <summary>The refinement stops when its angular step falls below this, degrees.</summary>
    public double ToleranceDeg { get; init; } = 0.05;

    /// <summary>Also try the mirror image of the second map.</summary>
    public bool TryMirror { get; init; } = true;

    /// <summary>Threads for the searches; -1 uses every core. Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Interpolation used to produce the aligned copy (<see cref="MapTransform"/>).</summary>
    public ProjectorOptions Resampling { get; init; } = MapTransform.DefaultResampling;

    /// <summary>FFT backend; null means <see cref="FftBackends.Default"/>.</summary>
    public IFftBackend? Fft { get; init; }

    internal void Validate()
    {
        if (!(GlobalStepDeg >= 1 && GlobalStepDeg <= 90))
            throw new ArgumentOutOfRangeException(nameof(GlobalStepDeg), GlobalStepDeg, "global step must be in [1, 90] degrees");
        if (GlobalRadius < 1) throw new ArgumentOutOfRangeException(nameof(GlobalRadius), GlobalRadius, "global radius must be at least 1 Fourier pixel");
        if (RefineRadius < GlobalRadius)
            throw new ArgumentOutOfRangeException(nameof(RefineRadius), RefineRadius, $"refinement radius must be at least the global radius ({GlobalRadius})");
        if (CandidatesPerHand < 1) throw new ArgumentOutOfRangeException(nameof(CandidatesPerHand), CandidatesPerHand, "need at least one candidate per hand");
        if (!(ToleranceDeg > 0 && ToleranceDeg < GlobalStepDeg))
            throw new ArgumentOutOfRangeException(nameof(ToleranceDeg), ToleranceDeg, "tolerance must be positive and below the global step");
        if (MaxDegreeOfParallelism == 0 || MaxDegreeOfParallelism < -1)
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "use -1 (all cores) or a positive count");
    }
}

/// <summary>
/// The motion that best superimposes map b on map a: aligned(x) = b_h(R^T (x - c - t) + c)
/// (<see cref="MapTransform"/>).
/// </summary>
public sealed class MapAlignmentResult
{
    internal MapAlignmentResult(Rotation3 rotation, Shift3 shiftVoxels, double voxelSize, MapHand hand,
        double correlation, double otherHandCorrelation, int radius, int rotationsSearched, float[] aligned,
        bool whitened, double information)
    {
        Whitened = whitened;
        Information = information;
        Rotation = rotation;
        ShiftVoxels = shiftVoxels;
        ShiftAngst = shiftVoxels.Scale(voxelSize);
        Hand = hand;
        Correlation = correlation;
        OtherHandCorrelation = otherHandCorrelation;
        Radius = radius;
        RotationsSearched = rotationsSearched;
        Aligned = aligned;
    }

    /// <summary>R: b (in hand <see cref="Hand"/>) turned by R about the centre voxel D/2 lies on a.</summary>
    public Rotation3 Rotation { get; }

    /// <summary>R as RELION Euler angles (degrees; <see cref="EulerAngles.FromMatrix"/>).</summary>
    public EulerAngles Angles => EulerAngles.FromMatrix(Rotation);

    /// <summary>t in voxels, applied after the rotation.</summary>
    public Shift3 ShiftVoxels { get; }

    /// <summary>t in Å.</summary>
    public Shift3 ShiftAngst { get; }

    /// <summary>Whether b or its mirror image matched.</summary>
    public MapHand Hand { get; }

    /// <summary>
    /// Normalised correlation of a and the aligned b (their masked, background-free copies; see
    /// <see cref="MapAlignment"/>) over the Fourier coefficients 0 &lt; |k| &lt;= <see cref="Radius"/>, shell-whitened
    /// when <see cref="Whitened"/>: 1 for identical maps, and blind to offsets and scale.
    /// </summary>
    public double Correlation { get; }

    /// <summary>The same score (same search) for the best pose of the other hand; NaN when the mirror was not tried.</summary>
    public double OtherHandCorrelation { get; }

    /// <summary>Whether the pose came from the whitened search (<see cref="MapAlignmentOptions.Whiten"/>) rather than the plain one.</summary>
    public bool Whitened { get; }

    /// <summary>
    /// The information of the FSC between the masked a and the moved, masked b up to <see cref="Radius"/>, nats
    /// (sum of -n/2 ln(1 - FSC^2) over shells): the criterion that chose between the searches' poses and hands.
    /// </summary>
    public double Information { get; }

    /// <summary>The refinement radius the correlations were measured at, Fourier pixels.</summary>
    public int Radius { get; }

    /// <summary>Rotations scored by the global search (both hands).</summary>
    public int RotationsSearched { get; }

    /// <summary>b moved onto a: D^3 voxels, [z][y][x].</summary>
    public float[] Aligned { get; }
}

/// <summary>
/// Superimposes one map on another over rotations, translations and the mirror image, as needed before an FSC
/// between maps from independent ab-initio runs (arbitrary orientation, position and hand).
/// <para><b>Algorithm</b>. (0) The search compares background-subtracted, softly masked copies of the maps
/// (<see cref="AlignmentMask"/>), so that box edges and constant offsets do not steer it. (1) Global search at low resolution (<see cref="MapAlignmentOptions.GlobalRadius"/>):
/// every rotation of a grid (Saff-Kuijlaars viewing directions x in-plane angles, spaced
/// <see cref="MapAlignmentOptions.GlobalStepDeg"/>), for each hand, scored by the peak of one FFT
/// cross-correlation over all shifts on a small box (<see cref="AlignmentLevel"/>). (2) The best few distinct
/// peaks per hand (<see cref="MapAlignmentOptions.CandidatesPerHand"/>, at least 1.5 grid steps apart) are refined
/// by a compass search over small rotations R &lt;- exp([w]) R (steps along the three axes, halving from half the
/// grid step), at twice the global radius when the final radius is much larger, then (3) the best pose per hand at
/// the final radius (<see cref="MapAlignmentOptions.RefineRadius"/>) down to
/// <see cref="MapAlignmentOptions.ToleranceDeg"/>, with the shift at each rotation refined to sub-voxel precision
/// by Newton steps on the correlation. (4) Steps 1-3 run twice: on the plain coefficients, whose score the strongest
/// (lowest) shells dominate, and on shell-whitened ones (<see cref="MapAlignmentOptions.Whiten"/>), where every shell
/// counts by its size. The plain search is misled when the low-resolution envelope is nearly symmetric (the hand
/// volume is a dipole at 20 Å: turns about its axis and the mirror image barely change it), the whitened one when the
/// fine shells are pure noise. Of the four poses (two searches, two hands), the one whose FSC with a carries the most
/// information (<see cref="FscInformation"/>) wins, and b, less its background level, is resampled onto a once
/// (<see cref="MapTransform"/>) and the level added back.</para>
/// <para><b>Cost</b> (defaults, one core): per search about 8,800 global scores on a 16^3 correlation box (0.3 s),
/// then a few hundred refinement scores; before the second search and the information step, 0.6 s CPU in all was
/// measured for box 32, 1.2-1.5 s for box 64 and 4 s for box 128 (where the final resampling of the 256^3 padded
/// transform takes about half).</para>
/// <para><b>Determinism</b>: searches run in parallel, but every score lands in its own slot and selections sort
/// by (score, index), so results do not depend on the thread count.</para>
/// </summary>
public static class MapAlignment
{
    /// <summary>Aligns <paramref name="b"/> to <paramref name="a"/>.</summary>
    /// <param name="a">reference map, D^3 voxels [z][y][x]</param>
    /// <param name="b">map to move, same box and voxel size</param>
    /// <param name="boxSize">D, even, at least 8</param>
    /// <param name="voxelSize">Å per voxel (shifts are reported in Å and voxels)</param>
    /// <param name="options">search settings; <see cref="MapAlignmentOptions.Default"/> when null</param>
    public static MapAlignmentResult Align(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int boxSize, double voxelSize, MapAlignmentOptions? options = null)
    {
        var o = options ?? MapAlignmentOptions.Default;
        o.Validate();
        FourierLayout.ValidateBoxSize(boxSize);
        if (boxSize < 8) throw new ArgumentOutOfRangeException(nameof(boxSize), boxSize, "alignment needs a box of at least 8 voxels");
        long n = (long)boxSize * boxSize * boxSize;
        if (a.Length != n || b.Length != n)
            throw new ArgumentException($"both maps must have {n} voxels (box {boxSize}); found {a.Length} and {b.Length}");
        if (!(voxelSize > 0)) throw new ArgumentOutOfRangeException(nameof(voxelSize), voxelSize, "voxel size must be positive");

        var fft = o.Fft ?? FftBackends.Default;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism };
        // the search sees background-free, softly masked maps; the aligned copy is made from b itself
        var aMasked = AlignmentMask.Apply(a, boxSize);
        var bMasked = AlignmentMask.Apply(b, boxSize);
        var plan = fft.Plan3D(boxSize);
        var aTransform = new float[2 * FourierLayout.HalfSpaceLength(boxSize)];
        plan.Forward(aMasked, aTransform);

        int maxRadius = boxSize / 2 - 1;
        int globalRadius = Math.Min(o.GlobalRadius, maxRadius), finalRadius = Math.Min(o.RefineRadius, maxRadius);
        var hands = o.TryMirror ? new[] { MapHand.Original, MapHand.Mirrored } : [MapHand.Original];
        var grid = RotationGrid(o.GlobalStepDeg);

        // the plain search, and the whitened one; each gives its best pose per hand
        var searches = new List<Refined[]> { Search(aTransform, bMasked, boxSize, globalRadius, finalRadius, null, hands, grid, o, fft, parallel) };
        if (o.Whiten)
        {
            var bTransform = new float[aTransform.Length];
            plan.Forward(bMasked, bTransform);
            var weights = (ShellWeights.Whitening(aTransform, boxSize, finalRadius), ShellWeights.Whitening(bTransform, boxSize, finalRadius));
            searches.Add(Search(aTransform, bMasked, boxSize, globalRadius, finalRadius, weights, hands, grid, o, fft, parallel));
        }

        // the winner: the candidate whose FSC with a carries the most information (see FscInformation)
        int bestSearch = 0, bestHand = 0;
        double bestInformation = double.NegativeInfinity;
        for (int si = 0; si < searches.Count; si++)
            for (int hi = 0; hi < hands.Length; hi++)
            {
                var c = searches[si][hi];
                var moved = MapTransform.Apply(bMasked, boxSize, c.Rotation, c.Hand, c.Score.ShiftVoxels, o.Resampling, fft);
                double information = FscInformation(FourierShellCorrelation.Compute(aMasked, moved, boxSize, voxelSize, fft), finalRadius);
                if (information > bestInformation)
                {
                    (bestInformation, bestSearch, bestHand) = (information, si, hi);
                }
            }
        var best = searches[bestSearch][bestHand];
        double other = o.TryMirror ? searches[bestSearch][1 - bestHand].Score.Score : double.NaN;

        // move b - background and add the background back, so a constant level does not turn into a rotated cube
        double background = AlignmentMask.BackgroundLevel(b, boxSize);
        var centred = new float[b.Length];
        for (int i = 0; i < centred.Length; i++) centred[i] = (float)(b[i] - background);
        var aligned = MapTransform.Apply(centred, boxSize, best.Rotation, best.Hand, best.Score.ShiftVoxels, o.Resampling, fft);
        for (int i = 0; i < aligned.Length; i++) aligned[i] = (float)(aligned[i] + background);
        return new MapAlignmentResult(best.Rotation, best.Score.ShiftVoxels, voxelSize, best.Hand, best.Score.Score, other,
            finalRadius, grid.Length * hands.Length * searches.Count, aligned, bestSearch == 1, bestInformation);
    }

    /// <summary>
    /// The information an FSC curve carries about the maps' agreement, nats: sum over shells 1..radius of
    /// -n/2 ln(1 - FSC^2), n the shell's coefficients, the log-likelihood ratio of correlated against independent
    /// Gaussian coefficients. A shell of noise adds about 1/2 whatever the pose; shells that agree add in proportion
    /// to their size. It compares the poses that the plain and the whitened searches propose, which fail in
    /// opposite cases (a blob-like envelope; fine shells that are pure noise).
    /// </summary>
    internal static double FscInformation(FscCurve curve, int radius)
    {
        double sum = 0;
        foreach (var shell in curve.Shells)
        {
            if (shell.Shell < 1 || shell.Shell > radius) continue;
            double rho2 = Math.Min(shell.Correlation * shell.Correlation, 1 - 1e-9);
            sum += -0.5 * shell.Coefficients * Math.Log(1 - rho2);
        }
        return sum;
    }

    /// <summary>
    /// One three-level search (global grid, middle refinement, final polish) with the given shell weights (null:
    /// plain); returns the best refined pose per hand, in the order of <paramref name="hands"/>.
    /// </summary>
    private static Refined[] Search(float[] aTransform, float[] bMasked, int boxSize, int globalRadius, int finalRadius,
        (double[] A, double[] B)? weights, MapHand[] hands, Rotation3[] grid, MapAlignmentOptions o, IFftBackend fft, ParallelOptions parallel)
    {
        var global = new AlignmentLevel(aTransform, bMasked, boxSize, globalRadius, fft, weights);
        if (global.ReferenceIsFlat)
            throw new ArgumentException($"the reference map has no contrast up to {globalRadius} Fourier pixels", "a");
        AlignmentLevel? middle = 3 * globalRadius <= finalRadius ? new AlignmentLevel(aTransform, bMasked, boxSize, 2 * globalRadius, fft, weights) : null;
        var final = finalRadius == globalRadius ? global : new AlignmentLevel(aTransform, bMasked, boxSize, finalRadius, fft, weights);
        var scores = GlobalSearch(global, grid, hands, parallel);

        // candidates: per hand, the best grid rotations at least 1.5 steps from each other
        var starts = new List<(Rotation3 Rotation, MapHand Hand)>();
        for (int hi = 0; hi < hands.Length; hi++)
            foreach (int i in DistinctPeaks(scores, hi * grid.Length, grid, o.CandidatesPerHand, 1.5 * o.GlobalStepDeg))
                starts.Add((grid[i], hands[hi]));

        double step = 0.5 * o.GlobalStepDeg;
        if (middle is not null)
        {
            double midTolerance = Math.Max(o.ToleranceDeg, o.GlobalStepDeg / 16);
            var refined = RefineAll(middle, starts, step, midTolerance, polish: false, parallel);
            starts = hands.Select(h => BestOf(refined, h)).Select(p => (p.Rotation, p.Hand)).ToList();
            step = 2 * midTolerance;
        }
        var finals = RefineAll(final, starts, step, o.ToleranceDeg, polish: true, parallel);
        return hands.Select(h => BestOf(finals, h)).ToArray();
    }

    /// <summary>Geodesic distance between two rotations, degrees: the angle of R1^T R2.</summary>
    public static double AngleBetweenDeg(in Rotation3 r1, in Rotation3 r2)
    {
        double trace = r1.M00 * r2.M00 + r1.M10 * r2.M10 + r1.M20 * r2.M20
                     + r1.M01 * r2.M01 + r1.M11 * r2.M11 + r1.M21 * r2.M21
                     + r1.M02 * r2.M02 + r1.M12 * r2.M12 + r1.M22 * r2.M22;
        return Math.Acos(Math.Clamp((trace - 1) / 2, -1, 1)) * 180 / Math.PI;
    }

    /// <summary>
    /// The global grid: directions d from <see cref="SphereQuadrature.SaffKuijlaars"/> (ceil(4 pi / step^2) of them,
    /// step in radians) combined with ceil(360 / step) in-plane angles psi, as RELION Euler angles
    /// (atan2(dy, dx), acos(dz), psi). The north pole with psi = 0 is the identity.
    /// </summary>
    internal static Rotation3[] RotationGrid(double stepDeg)
    {
        double step = stepDeg * Math.PI / 180;
        var dirs = SphereQuadrature.SaffKuijlaars((int)Math.Ceiling(4 * Math.PI / (step * step)));
        int psis = (int)Math.Ceiling(360 / stepDeg);
        var grid = new Rotation3[dirs.Length * psis];
        for (int i = 0; i < dirs.Length; i++)
        {
            var d = dirs[i];
            double rot = d.X == 0 && d.Y == 0 ? 0 : Math.Atan2(d.Y, d.X) * 180 / Math.PI;
            double tilt = Math.Acos(Math.Clamp(d.Z, -1, 1)) * 180 / Math.PI;
            for (int j = 0; j < psis; j++)
                grid[i * psis + j] = new EulerAngles(rot, tilt, j * 360.0 / psis).ToMatrix();
        }
        return grid;
    }

    /// <summary>Scores laid out [hand][rotation].</summary>
    private static double[] GlobalSearch(AlignmentLevel level, Rotation3[] grid, MapHand[] hands, ParallelOptions parallel)
    {
        var scores = new double[grid.Length * hands.Length];
        Parallel.For(0, scores.Length, parallel, level.CreateWorkspace, (i, _, ws) =>
        {
            scores[i] = level.Score(grid[i % grid.Length], hands[i / grid.Length], ws).Score;
            return ws;
        }, _ => { });
        return scores;
    }

    /// <summary>Indices (relative to <paramref name="offset"/>) of the best scores, greedily kept when far enough from those kept.</summary>
    private static List<int> DistinctPeaks(double[] scores, int offset, Rotation3[] grid, int count, double separationDeg)
    {
        var order = Enumerable.Range(0, grid.Length)
            .OrderByDescending(i => scores[offset + i]).ThenBy(i => i).ToArray();
        var kept = new List<int>();
        foreach (int i in order)
        {
            if (kept.Count == count) break;
            if (kept.All(k => AngleBetweenDeg(grid[k], grid[i]) >= separationDeg)) kept.Add(i);
        }
        return kept;
    }

    private readonly record struct Refined(Rotation3 Rotation, MapHand Hand, LevelScore Score);

    private static Refined[] RefineAll(AlignmentLevel level, List<(Rotation3 Rotation, MapHand Hand)> starts,
        double stepDeg, double toleranceDeg, bool polish, ParallelOptions parallel)
    {
        var results = new Refined[starts.Count];
        Parallel.For(0, starts.Count, parallel, i =>
        {
            var ws = level.CreateWorkspace();
            results[i] = CompassSearch(level, starts[i].Rotation, starts[i].Hand, stepDeg, toleranceDeg, polish, ws);
        });
        return results;
    }

    private static Refined BestOf(Refined[] refined, MapHand hand)
    {
        Refined? best = null;
        foreach (var r in refined)
            if (r.Hand == hand && (best is null || r.Score.Score > best.Value.Score.Score))
                best = r;
        return best ?? throw new InvalidOperationException($"no candidate was refined for the {hand} hand");
    }

    /// <summary>
    /// Compass search with a quadratic step on small rotations about the current best R: score exp([+-step e_i]) R
    /// for the three axes, fit a parabola per axis through those and the centre, and also score the combined vertex
    /// (each component clamped to +-step). Move to the best of the seven; keep the step while moves are at least
    /// half a step long, halve it otherwise; stop below the tolerance.
    /// </summary>
    private static Refined CompassSearch(AlignmentLevel level, Rotation3 start, MapHand hand, double stepDeg, double toleranceDeg,
        bool polish, AlignmentLevel.Workspace ws)
    {
        var first = level.Score(start, hand, ws);
        if (polish) first = level.PolishLast(first.ShiftVoxels, ws);
        var best = new Refined(start, hand, first);
        double step = stepDeg;
        Span<double> plus = stackalloc double[3];
        Span<double> minus = stackalloc double[3];
        Span<double> vertex = stackalloc double[3];
        while (step >= toleranceDeg)
        {
            var move = best;
            double moveLength = 0;
            double rad = step * Math.PI / 180;
            for (int axis = 0; axis < 3; axis++)
                for (int sign = -1; sign <= 1; sign += 2)
                {
                    var trial = Turn(axis == 0 ? sign * rad : 0, axis == 1 ? sign * rad : 0, axis == 2 ? sign * rad : 0) * best.Rotation;
                    var score = Score(level, trial, hand, best.Score.ShiftVoxels, polish, ws);
                    (sign < 0 ? minus : plus)[axis] = score.Score;
                    if (score.Score > move.Score.Score)
                    {
                        move = new Refined(trial, hand, score);
                        moveLength = rad;
                    }
                }
            double f0 = best.Score.Score;
            for (int axis = 0; axis < 3; axis++)
            {
                double curvature = plus[axis] + minus[axis] - 2 * f0;
                vertex[axis] = curvature < 0
                    ? Math.Clamp(0.5 * rad * (minus[axis] - plus[axis]) / curvature, -rad, rad)
                    : rad * Math.Sign(plus[axis] - minus[axis]);
            }
            double vertexLength = Math.Sqrt(vertex[0] * vertex[0] + vertex[1] * vertex[1] + vertex[2] * vertex[2]);
            if (vertexLength > 0)
            {
                var trial = Turn(vertex[0], vertex[1], vertex[2]) * best.Rotation;
                var score = Score(level, trial, hand, best.Score.ShiftVoxels, polish, ws);
                if (score.Score > move.Score.Score)
                {
                    move = new Refined(trial, hand, score);
                    moveLength = vertexLength;
                }
            }
            if (move.Score.Score > best.Score.Score + MinimumGain(polish)) best = move;
            else moveLength = 0;
            if (moveLength < 0.5 * rad) step *= 0.5;
        }
        return best;
    }

    /// <summary>
    /// A move must raise the correlation by more than this. Scores read off the float FFT carry round-off of about
    /// 1e-7, which could otherwise walk the pose away from an exact optimum (the identity for identical maps);
    /// polished scores are accumulated in double and need only a token margin. Real gains at the finest default
    /// step are far larger.
    /// </summary>
    private static double MinimumGain(bool polish) => polish ? 1e-10 : 1e-6;

    private static Rotation3 Turn(double x, double y, double z) => Rotation3.FromAxisAngle(x, y, z);

    private static LevelScore Score(AlignmentLevel level, in Rotation3 rotation, MapHand hand, Shift3 near, bool polish, AlignmentLevel.Workspace ws)
    {
        return polish ? level.ScoreNear(rotation, hand, near, ws) : level.Score(rotation, hand, ws);
    }

}
