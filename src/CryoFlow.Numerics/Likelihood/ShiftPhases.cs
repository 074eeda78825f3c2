namespace CryoFlow.Numerics.Likelihood;

/// <summary>
/// Shift phases Φ[t,k] = exp(+2πi (kx_k tx_t + ky_k ty_t) / D) on integer frequency points: the factor
/// that re-centres a particle displaced by +t. Because the coordinates are integers the phase
/// factorises as ex_t[kx] · ey_t[ky], so each shift costs one sin/cos per distinct coordinate (in
/// double, then rounded to float) and one complex float multiply per point (|error| ≲ 2e-7).
/// </summary>
public static class ShiftPhases
{
    /// <summary>Scratch floats <see cref="Compute"/> needs for box size D.</summary>
    public static int TableLength(int boxSize) => 4 * (boxSize + 1);

    /// <summary>Writes Φ for every (shift, point).</summary>
    /// <param name="kx">[N_k] integer x frequency index, in [-D/2, D/2]</param>
    /// <param name="ky">[N_k] integer y frequency index, in [-D/2, D/2]</param>
    /// <param name="boxSize">D, pixels</param>
    /// <param name="shiftX">[N_t] t_x, pixels</param>
    /// <param name="shiftY">[N_t] t_y, pixels</param>
    /// <param name="phaseRe">[N_t · N_k] Re Φ[t,k], row t at t·N_k</param>
    /// <param name="phaseIm">[N_t · N_k] Im Φ[t,k]</param>
    /// <param name="tables">at least <see cref="TableLength"/>(D) floats</param>
    public static void Compute(ReadOnlySpan<int> kx, ReadOnlySpan<int> ky, int boxSize,
        ReadOnlySpan<float> shiftX, ReadOnlySpan<float> shiftY, Span<float> phaseRe, Span<float> phaseIm, Span<float> tables)
    {
        int nk = kx.Length, nt = shiftX.Length;
        if (boxSize <= 0) KernelGuard.Throw.Argument(nameof(boxSize), $"box size {boxSize} must be positive");
        KernelGuard.Length(ky.Length, nk, nameof(ky));
        KernelGuard.Length(shiftY.Length, nt, nameof(shiftY));
        KernelGuard.AtLeast(phaseRe.Length, (long)nt * nk, nameof(phaseRe));
        KernelGuard.AtLeast(phaseIm.Length, (long)nt * nk, nameof(phaseIm));
        KernelGuard.AtLeast(tables.Length, TableLength(boxSize), nameof(tables));
        if (nk == 0 || nt == 0) return;

        int half = boxSize / 2;
        int xMin = int.MaxValue, xMax = int.MinValue, yMin = int.MaxValue, yMax = int.MinValue;
        for (int k = 0; k < nk; k++)
        {
            xMin = Math.Min(xMin, kx[k]); xMax = Math.Max(xMax, kx[k]);
            yMin = Math.Min(yMin, ky[k]); yMax = Math.Max(yMax, ky[k]);
        }
        if (xMin < -half || xMax > half || yMin < -half || yMax > half)
            KernelGuard.Throw.Argument(nameof(kx), $"frequency indices span x [{xMin}, {xMax}], y [{yMin}, {yMax}]; box {boxSize} allows [{-half}, {half}]");

        int nx = xMax - xMin + 1, ny = yMax - yMin + 1;
        var exRe = tables.Slice(0, nx);
        var exIm = tables.Slice(nx, nx);
        var eyRe = tables.Slice(2 * nx, ny);
        var eyIm = tables.Slice(2 * nx + ny, ny);
        double scale = 2 * Math.PI / boxSize;
        for (int t = 0; t < nt; t++)
        {
            double wx = scale * shiftX[t], wy = scale * shiftY[t];
            for (int j = 0; j < nx; j++)
            {
                (double s, double c) = Math.SinCos(wx * (xMin + j));
                exRe[j] = (float)c; exIm[j] = (float)s;
            }
            for (int j = 0; j < ny; j++)
            {
                (double s, double c) = Math.SinCos(wy * (yMin + j));
                eyRe[j] = (float)c; eyIm[j] = (float)s;
            }
            var pr = phaseRe.Slice(t * nk, nk);
            var pi = phaseIm.Slice(t * nk, nk);
            for (int k = 0; k < nk; k++)
            {
                int ix = kx[k] - xMin, iy = ky[k] - yMin;
                float ar = exRe[ix], ai = exIm[ix], br = eyRe[iy], bi = eyIm[iy];
                pr[k] = ar * br - ai * bi;
                pi[k] = ar * bi + ai * br;
            }
        }
    }
}
