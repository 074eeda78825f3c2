using System.Numerics.Tensors;

namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// A prior on the density, as the per-image-mean term of the objective (DESIGN 5, REFERENCE 5.1): values and
/// gradients are of -log p(V) / N_train, N_train being the training-set size given at construction, and are
/// defined up to an additive constant (normalisers are dropped: they move no optimiser and no line search).
/// </summary>
public interface IDensityPrior
{
    /// <summary>-log p(V) / N_train, up to a constant.</summary>
    double Value(ReadOnlySpan<float> volume);

    /// <summary>Returns the value and writes its gradient with respect to every voxel into <paramref name="gradient"/> (overwritten).</summary>
    double ValueAndGradient(ReadOnlySpan<float> volume, Span<float> gradient);
}

/// <summary>The improper uniform prior: value 0, gradient 0 (the data alone decide, within positivity).</summary>
public sealed class UniformPrior : IDensityPrior
{
    public static UniformPrior Instance { get; } = new();

    public double Value(ReadOnlySpan<float> volume) => 0;

    public double ValueAndGradient(ReadOnlySpan<float> volume, Span<float> gradient)
    {
        CheckLengths(volume, gradient);
        gradient.Clear();
        return 0;
    }

    internal static void CheckLengths(ReadOnlySpan<float> volume, Span<float> gradient)
    {
        if (gradient.Length != volume.Length) throw new ArgumentException($"gradient has {gradient.Length} elements, the volume {volume.Length}", nameof(gradient));
    }
}

/// <summary>
/// The exponential (sparsity) prior, CryoFlow's default: each voxel independently exponential with rate lambda,
/// -log p(V) = lambda sum_v v (+ const). The linear form is kept for v &lt; 0 too (as the reference code's
/// <c>assumepos</c> does) so that unprojected line-search trial points get a finite value; positivity is the
/// optimiser's projection, not the prior's. Gradient: lambda / N_train everywhere.
/// </summary>
public sealed class ExponentialPrior : IDensityPrior
{
    /// <param name="lambda">rate, per unit of density (1 / voxel-value units), &gt; 0</param>
    /// <param name="trainingSetSize">N_train, images in the training set</param>
    public ExponentialPrior(double lambda, long trainingSetSize)
    {
        if (!(lambda > 0) || !double.IsFinite(lambda)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "lambda must be positive and finite");
        ArgumentOutOfRangeException.ThrowIfLessThan(trainingSetSize, 1);
        Lambda = lambda;
        TrainingSetSize = trainingSetSize;
    }

    /// <summary>lambda = sparsity / model scale, as the reference code sets it (sparsity 0.9; REFERENCE 5.5, 1.9).</summary>
    /// <param name="modelScale">the voxel-value scale of the model (reference: (|DC estimate| + 2 std) / D)</param>
    public static double ReferenceLambda(double modelScale, double sparsity = 0.9)
    {
        if (!(modelScale > 0) || !double.IsFinite(modelScale)) throw new ArgumentOutOfRangeException(nameof(modelScale), modelScale, "model scale must be positive and finite");
        return sparsity / modelScale;
    }

    public double Lambda { get; }

    public long TrainingSetSize { get; }

    public double Value(ReadOnlySpan<float> volume) => Lambda * VectorMath.Sum(volume) / TrainingSetSize;

    public double ValueAndGradient(ReadOnlySpan<float> volume, Span<float> gradient)
    {
        UniformPrior.CheckLengths(volume, gradient);
        gradient.Fill((float)(Lambda / TrainingSetSize));
        return Value(volume);
    }
}

/// <summary>Which quadratic form a <see cref="CarPrior"/> uses.</summary>
public enum CarForm
{
    /// <summary>
    /// The paper's reading, every voxel Gaussian around the mean of its 26 neighbours:
    /// -log p = sum_v (v - m_v)^2 / (2 tau^2) with m = W V; gradient (I - W)^T (I - W) V / tau^2.
    /// </summary>
    ConditionalResidual,

    /// <summary>
    /// The Gaussian Markov random field whose conditionals have that mean (the reference code's form, with the
    /// paper's 26-neighbour W): -log p = V^T (I - W) V / (2 tau^2); gradient (I - W) V / tau^2.
    /// </summary>
    MarkovField,
}

/// <summary>
/// The conditional autoregressive (smoothness) prior: W is the mean over the 26 neighbours of a voxel in its
/// 3x3x3 cube, with zero boundary (voxels outside the box count as 0 and the divisor stays 26), which keeps W
/// symmetric; the particle sits well inside the box, so the boundary only keeps edge voxels near 0. The form is
/// <see cref="CarForm.ConditionalResidual"/> by default. Holds two volumes of scratch: one instance per thread.
/// </summary>
public sealed class CarPrior : IDensityPrior
{
    private readonly float[] _a;
    private readonly float[] _b;
    private readonly double _scale;

    /// <param name="boxSize">D; volumes are D^3 in <see cref="Fourier.FourierLayout"/>'s real-space order</param>
    /// <param name="tau">standard deviation of a voxel about its neighbours' mean, density units</param>
    /// <param name="trainingSetSize">N_train</param>
    public CarPrior(int boxSize, double tau, long trainingSetSize, CarForm form = CarForm.ConditionalResidual)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(boxSize, 1);
        if (!(tau > 0) || !double.IsFinite(tau)) throw new ArgumentOutOfRangeException(nameof(tau), tau, "tau must be positive and finite");
        ArgumentOutOfRangeException.ThrowIfLessThan(trainingSetSize, 1);
        if (!Enum.IsDefined(form)) throw new ArgumentOutOfRangeException(nameof(form), form, "unknown CAR form");
        BoxSize = boxSize;
        Tau = tau;
        TrainingSetSize = trainingSetSize;
        Form = form;
        int length = checked(boxSize * boxSize * boxSize);
        _a = new float[length];
        _b = new float[length];
        _scale = 1 / (tau * tau * trainingSetSize);
    }

    public int BoxSize { get; }
    public double Tau { get; }
    public long TrainingSetSize { get; }
    public CarForm Form { get; }

    public double Value(ReadOnlySpan<float> volume)
    {
        CheckVolume(volume);
        Span<float> r = _b;
        Residual(volume, r, _a);
        return 0.5 * _scale * (Form == CarForm.ConditionalResidual ? VectorMath.SumOfSquares(r) : VectorMath.Dot(volume, r));
    }

    public double ValueAndGradient(ReadOnlySpan<float> volume, Span<float> gradient)
    {
        CheckVolume(volume);
        UniformPrior.CheckLengths(volume, gradient);
        Span<float> r = _b, a = _a;
        Residual(volume, r, a);
        if (Form == CarForm.MarkovField)
        {
            double markov = 0.5 * _scale * VectorMath.Dot(volume, r);
            TensorPrimitives.Multiply(r, (float)_scale, gradient);
            return markov;
        }
        double value = 0.5 * _scale * VectorMath.SumOfSquares(r);
        // (I - W) r = (27 r - box(r)) / 26, W symmetric so (I - W)^T = I - W.
        BoxSum(r, gradient, a, BoxSize);
        TensorPrimitives.Multiply(r, 27f, a);
        TensorPrimitives.Subtract(a, gradient, gradient);
        TensorPrimitives.Multiply(gradient, (float)(_scale / 26), gradient);
        return value;
    }

    /// <summary>r = (I - W) v = v - (box(v) - v)/26 = (27 v - box(v)) / 26. Uses <paramref name="scratch"/>.</summary>
    private void Residual(ReadOnlySpan<float> v, Span<float> r, Span<float> scratch)
    {
        BoxSum(v, scratch, r, BoxSize);
        TensorPrimitives.Multiply(v, 27f, r);
        TensorPrimitives.Subtract(r, scratch, r);
        TensorPrimitives.Multiply(r, 1f / 26, r);
    }

    /// <summary>
    /// Sum over the 3x3x3 cube around every voxel (zero outside the box), separably: along x, then y, then z.
    /// <paramref name="destination"/> receives the result; <paramref name="scratch"/> holds the middle pass.
    /// </summary>
    internal static void BoxSum(ReadOnlySpan<float> source, Span<float> destination, Span<float> scratch, int d)
    {
        AxisSum(source, destination, d, 1);
        AxisSum(destination, scratch, d * d, d);
        AxisSum(scratch, destination, d * d * d, d * d);
    }

    /// <summary>t = s + s shifted by +-<paramref name="shift"/> within every block of <paramref name="block"/> elements.</summary>
    private static void AxisSum(ReadOnlySpan<float> source, Span<float> destination, int block, int shift)
    {
        for (int o = 0; o < source.Length; o += block)
        {
            var s = source.Slice(o, block);
            var t = destination.Slice(o, block);
            s.CopyTo(t);
            if (shift >= block) continue;
            TensorPrimitives.Add(t[shift..], s[..^shift], t[shift..]);
            TensorPrimitives.Add(t[..^shift], s[shift..], t[..^shift]);
        }
    }

    private void CheckVolume(ReadOnlySpan<float> volume)
    {
        if (volume.Length != _a.Length) throw new ArgumentException($"volume has {volume.Length} voxels, expected {BoxSize}^3 = {_a.Length}", nameof(volume));
    }
}
