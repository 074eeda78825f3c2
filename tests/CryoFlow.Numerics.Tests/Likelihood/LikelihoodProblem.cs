using CryoFlow.Numerics.Likelihood;

namespace CryoFlow.Numerics.Tests.Likelihood;

/// <summary>
/// A random single-particle problem in plain arrays, plus the brute-force reference: every
/// (d,p,t) residual summed directly in double with phases from Math.SinCos.
/// </summary>
internal sealed class LikelihoodProblem
{
    public int BoxSize = 32;
    public double Sigma2 = 1;
    public int[] Kx = [], Ky = [];
    public float[] M = [], SRe = [], SIm = [], ARe = [], AIm = [], C = [], Tx = [], Ty = [];
    public double[] LwD = [], LwP = [], LwT = [];

    public int Nk => Kx.Length;
    public int Nd => LwD.Length;
    public int Np => LwP.Length;
    public int Nt => LwT.Length;
    public KernelCapacity Capacity => new(Nk, Nd, Np, Nt, BoxSize);

    /// <summary>
    /// Random data; <paramref name="sliceScale"/> sets how much the poses differ (the spread of ll
    /// grows with it), so the posterior can be made broad or peaked.
    /// </summary>
    public static LikelihoodProblem Random(int nk, int nd, int np, int nt, int seed, double sliceScale = 0.3, double sigma2 = 1)
    {
        var rng = new Random(seed);
        float G() => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        float[] Gauss(int n, double s) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(s * G()); return a; }
        double[] Lw(int n) { var a = new double[n]; for (int i = 0; i < n; i++) a[i] = -Math.Log(Math.Max(n, 1)) + 0.5 * G(); return a; }
        var p = new LikelihoodProblem { BoxSize = 32, Sigma2 = sigma2 };
        p.Kx = new int[nk]; p.Ky = new int[nk]; p.M = new float[nk];
        for (int k = 0; k < nk; k++)
        {
            p.Kx[k] = rng.Next(0, 12);
            p.Ky[k] = rng.Next(-11, 12);
            p.M[k] = (p.Kx[k] == 0 && p.Ky[k] <= 0) ? 1f : 2f;
        }
        double s = sliceScale / Math.Sqrt(Math.Sqrt(Math.Max(nk, 1)));
        p.SRe = Gauss(nd * nk, s); p.SIm = Gauss(nd * nk, s);
        p.ARe = Gauss(np * nk, 1); p.AIm = Gauss(np * nk, 1);
        p.C = new float[np * nk];
        for (int i = 0; i < p.C.Length; i++) p.C[i] = (float)(0.3 + rng.NextDouble());
        p.Tx = new float[nt]; p.Ty = new float[nt];
        for (int t = 0; t < nt; t++) { p.Tx[t] = (float)(6 * rng.NextDouble() - 3); p.Ty[t] = (float)(6 * rng.NextDouble() - 3); }
        p.LwD = Lw(nd); p.LwP = Lw(np); p.LwT = Lw(nt);
        return p;
    }

    public KernelInputs Inputs() => new()
    {
        BoxSize = BoxSize, Sigma2 = Sigma2, Kx = Kx, Ky = Ky, Multiplicity = M,
        SliceRe = SRe, SliceIm = SIm, ImageRe = ARe, ImageIm = AIm, Ctf = C,
        ShiftX = Tx, ShiftY = Ty, LogWeightDirection = LwD, LogWeightInPlane = LwP, LogWeightShift = LwT,
    };

    /// <summary>Kernel outputs into fresh arrays.</summary>
    public (KernelResult Result, double[] PostD, double[] PostP, double[] PostT, float[] GRe, float[] GIm) Run(
        KernelWorkspace ws, bool gradient = true)
    {
        double[] pd = new double[Nd], pp = new double[Np], pt = new double[Nt];
        float[] gr = gradient ? new float[Nd * Nk] : [], gi = gradient ? new float[Nd * Nk] : [];
        var output = new KernelOutputs { PosteriorDirection = pd, PosteriorInPlane = pp, PosteriorShift = pt, GradientRe = gr, GradientIm = gi };
        var r = MarginalLikelihoodKernel.Evaluate(Inputs(), ws, output);
        return (r, pd, pp, pt, gr, gi);
    }

    public KernelResult Run(bool gradient = true, bool forceScalar = false)
    {
        using var ws = new KernelWorkspace(Capacity) { ForceScalar = forceScalar };
        return Run(ws, gradient).Result;
    }

    /// <summary>The brute-force reference, all in double.</summary>
    public Reference Naive(double[]? sRe = null, double[]? sIm = null)
    {
        sRe ??= SRe.Select(v => (double)v).ToArray();
        sIm ??= SIm.Select(v => (double)v).ToArray();
        int nk = Nk, nd = Nd, np = Np, nt = Nt;
        var phRe = new double[nt * nk];
        var phIm = new double[nt * nk];
        for (int t = 0; t < nt; t++)
            for (int k = 0; k < nk; k++)
            {
                (double sn, double cs) = Math.SinCos(2 * Math.PI * (Kx[k] * (double)Tx[t] + Ky[k] * (double)Ty[t]) / BoxSize);
                phRe[t * nk + k] = cs; phIm[t * nk + k] = sn;
            }
        var logPost = new double[nd, np, nt];
        var sqErr = new double[nd, np, nt];
        double max = double.NegativeInfinity;
        for (int d = 0; d < nd; d++)
            for (int p = 0; p < np; p++)
                for (int t = 0; t < nt; t++)
                {
                    double e = 0;
                    for (int k = 0; k < nk; k++)
                    {
                        double ar = ARe[p * nk + k], ai = AIm[p * nk + k], c = C[p * nk + k];
                        double fr = phRe[t * nk + k], fi = phIm[t * nk + k];
                        double rr = fr * ar - fi * ai - c * sRe[d * nk + k];
                        double ri = fr * ai + fi * ar - c * sIm[d * nk + k];
                        e += M[k] * (rr * rr + ri * ri);
                    }
                    sqErr[d, p, t] = e;
                    double v = LwD[d] + LwP[p] + LwT[t] - e / (2 * Sigma2);
                    logPost[d, p, t] = v;
                    max = Math.Max(max, v);
                }
        var r = new Reference { PostD = new double[nd], PostP = new double[np], PostT = new double[nt], GRe = new double[nd * nk], GIm = new double[nd * nk], Gamma = new double[nd, np, nt] };
        if (double.IsNegativeInfinity(max)) { r.LogLikelihood = double.NegativeInfinity; return r; }
        double z = 0;
        foreach (double v in logPost) z += Math.Exp(v - max);
        r.LogLikelihood = max + Math.Log(z);
        double best = -1;
        for (int d = 0; d < nd; d++)
            for (int p = 0; p < np; p++)
                for (int t = 0; t < nt; t++)
                {
                    double g = Math.Exp(logPost[d, p, t] - max) / z;
                    r.Gamma[d, p, t] = g;
                    r.PostD[d] += g; r.PostP[p] += g; r.PostT[t] += g;
                    r.ExpectedSquaredError += g * sqErr[d, p, t];
                    if (g > best) { best = g; r.Best = new PoseIndex(d, p, t); r.BestProbability = g; }
                    for (int k = 0; k < nk; k++)
                    {
                        double ar = ARe[p * nk + k], ai = AIm[p * nk + k], c = C[p * nk + k];
                        double fr = phRe[t * nk + k], fi = phIm[t * nk + k];
                        double rr = fr * ar - fi * ai - c * sRe[d * nk + k];
                        double ri = fr * ai + fi * ar - c * sIm[d * nk + k];
                        double w = M[k] / Sigma2 * g * c;
                        r.GRe[d * nk + k] += w * rr;
                        r.GIm[d * nk + k] += w * ri;
                    }
                }
        return r;
    }

    public sealed class Reference
    {
        public double LogLikelihood;
        public double[] PostD = [], PostP = [], PostT = [];
        public double[,,] Gamma = new double[0, 0, 0];
        public PoseIndex Best = PoseIndex.None;
        public double BestProbability;
        public double ExpectedSquaredError;
        public double[] GRe = [], GIm = [];
    }
}
