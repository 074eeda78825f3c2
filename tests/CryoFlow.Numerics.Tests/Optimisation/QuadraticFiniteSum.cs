namespace CryoFlow.Numerics.Tests.Optimisation;

/// <summary>
/// A convex stand-in for the cryo-EM objective: n minibatches, each the mean of <c>rows</c> least-squares terms,
/// f_k(x) = (1/(2 rows)) |A_k x - b_k|^2, plus an exponential prior lambda sum x, under x &gt;= 0. The data come from
/// a truth with some negative entries plus noise, so the constraint is active at the minimiser and the minibatch
/// gradients do not vanish there (as with real data). The minimiser is found by accelerated projected gradient
/// descent on the full objective in double precision.
/// </summary>
internal sealed class QuadraticFiniteSum
{
    private readonly double[][] _a; // per batch, rows x dimension, row-major
    private readonly double[][] _b;

    public QuadraticFiniteSum(int dimension, int batches, int rows, double lambda, int seed)
    {
        Dimension = dimension;
        BatchCount = batches;
        Rows = rows;
        Lambda = lambda;
        var rng = new Random(seed);
        var truth = new double[dimension];
        for (int j = 0; j < dimension; j++) truth[j] = j % 4 == 0 ? -0.5 - rng.NextDouble() : 0.5 + 2 * rng.NextDouble();
        _a = new double[batches][];
        _b = new double[batches][];
        for (int k = 0; k < batches; k++)
        {
            _a[k] = new double[rows * dimension];
            _b[k] = new double[rows];
            for (int r = 0; r < rows; r++)
            {
                double dot = 0;
                for (int j = 0; j < dimension; j++)
                {
                    double v = Gaussian(rng);
                    _a[k][r * dimension + j] = v;
                    dot += v * truth[j];
                }
                _b[k][r] = dot + 0.3 * Gaussian(rng);
            }
        }
        Minimiser = Solve();
        MinimumValue = FullObjective(Minimiser);
    }

    public int Dimension { get; }
    public int BatchCount { get; }
    public int Rows { get; }
    public double Lambda { get; }

    /// <summary>The constrained minimiser of the mean of the f_k plus the prior.</summary>
    public double[] Minimiser { get; }

    public double MinimumValue { get; }

    /// <summary>f_k(x) + lambda sum x: what a line search sees.</summary>
    public double BatchObjective(int k, ReadOnlySpan<float> x) => DataTerm(k, x) + Lambda * Sum(x);

    public double DataTerm(int k, ReadOnlySpan<float> x)
    {
        double s = 0;
        for (int r = 0; r < Rows; r++)
        {
            double res = Residual(k, r, x);
            s += res * res;
        }
        return s / (2 * Rows);
    }

    public void DataGradient(int k, ReadOnlySpan<float> x, Span<float> g)
    {
        Span<double> acc = stackalloc double[Dimension];
        acc.Clear();
        for (int r = 0; r < Rows; r++)
        {
            double res = Residual(k, r, x);
            for (int j = 0; j < Dimension; j++) acc[j] += res * _a[k][r * Dimension + j];
        }
        for (int j = 0; j < Dimension; j++) g[j] = (float)(acc[j] / Rows);
    }

    public void PriorGradient(Span<float> g) => g.Fill((float)Lambda);

    public double FullObjective(ReadOnlySpan<double> x)
    {
        double s = 0;
        for (int k = 0; k < BatchCount; k++)
            for (int r = 0; r < Rows; r++)
            {
                double res = -_b[k][r];
                for (int j = 0; j < Dimension; j++) res += _a[k][r * Dimension + j] * x[j];
                s += res * res;
            }
        double sum = 0;
        foreach (double v in x) sum += v;
        return s / (2 * Rows * BatchCount) + Lambda * sum;
    }

    public double FullObjective(ReadOnlySpan<float> x)
    {
        var d = new double[x.Length];
        for (int j = 0; j < x.Length; j++) d[j] = x[j];
        return FullObjective(d);
    }

    /// <summary>Max over coordinates of |x - x*|.</summary>
    public double DistanceToMinimiser(ReadOnlySpan<float> x)
    {
        double worst = 0;
        for (int j = 0; j < Dimension; j++) worst = Math.Max(worst, Math.Abs(x[j] - Minimiser[j]));
        return worst;
    }

    public int ActiveConstraints => Minimiser.Count(v => v == 0);

    private double Residual(int k, int r, ReadOnlySpan<float> x)
    {
        double res = -_b[k][r];
        for (int j = 0; j < Dimension; j++) res += _a[k][r * Dimension + j] * x[j];
        return res;
    }

    private static double Sum(ReadOnlySpan<float> x)
    {
        double s = 0;
        foreach (float v in x) s += v;
        return s;
    }

    /// <summary>FISTA with restart on the full objective: converges to machine precision for this small problem.</summary>
    private double[] Solve()
    {
        int m = Dimension;
        // Full Hessian H = (1/(rows n)) sum A^T A and linear term c = -(1/(rows n)) sum A^T b + lambda.
        var h = new double[m, m];
        var c = new double[m];
        for (int k = 0; k < BatchCount; k++)
            for (int r = 0; r < Rows; r++)
                for (int i = 0; i < m; i++)
                {
                    double ai = _a[k][r * m + i];
                    c[i] -= ai * _b[k][r];
                    for (int j = 0; j < m; j++) h[i, j] += ai * _a[k][r * m + j];
                }
        double scale = 1.0 / (Rows * BatchCount);
        for (int i = 0; i < m; i++)
        {
            c[i] = c[i] * scale + Lambda;
            for (int j = 0; j < m; j++) h[i, j] *= scale;
        }
        double lmax = 0; // Gershgorin bound
        for (int i = 0; i < m; i++)
        {
            double row = 0;
            for (int j = 0; j < m; j++) row += Math.Abs(h[i, j]);
            lmax = Math.Max(lmax, row);
        }
        var x = new double[m];
        var y = new double[m];
        var prev = new double[m];
        double t = 1;
        for (int it = 0; it < 20000; it++)
        {
            Array.Copy(x, prev, m);
            for (int i = 0; i < m; i++)
            {
                double g = c[i];
                for (int j = 0; j < m; j++) g += h[i, j] * y[j];
                x[i] = Math.Max(0, y[i] - g / lmax);
            }
            double tNext = (1 + Math.Sqrt(1 + 4 * t * t)) / 2;
            double momentum = (t - 1) / tNext;
            double progress = 0;
            for (int i = 0; i < m; i++) progress += (x[i] - prev[i]) * (y[i] - x[i]);
            if (progress > 0) { t = 1; momentum = 0; } // restart when momentum points uphill
            else t = tNext;
            for (int i = 0; i < m; i++) y[i] = x[i] + momentum * (x[i] - prev[i]);
        }
        return x;
    }

    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
