using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Ctf;

/// <summary>
/// RELION's CTF (ctf.h), with the constants of one particle precomputed:
/// <code>
/// CTF(s) = -scale * sin(gamma) * exp(-B |s|^2 / 4)
/// gamma  = pi lambda df(theta) |s|^2 + (pi/2) Cs lambda^3 |s|^4 - phase_shift - atan(Q / sqrt(1 - Q^2))
/// df(theta) = -(U + V)/2 - (U - V)/2 cos(2 (theta - angle)),  theta = atan2(s_y, s_x)
/// </code>
/// s in 1/Å (s = k / (D apix) for integer frequency k), lambda in Å from the voltage, Cs in Å (mm * 1e7),
/// U and V positive for under-focus (so df &lt; 0), angle from the image x axis towards y. CTF(0) = scale * Q
/// (&gt; 0 for under-focus): images have white protein. The cos(2 theta) term is computed from s_x, s_y
/// without atan2.
/// </summary>
public readonly struct CtfEvaluator
{
    private readonly double _k1, _k2, _k3, _k4, _k5, _avg, _dev, _cos2a, _sin2a, _scale;

    public CtfEvaluator(in CtfParameters p)
    {
        if (!(p.AmplitudeContrast >= 0 && p.AmplitudeContrast < 1))
            throw new ArgumentOutOfRangeException(nameof(p), p.AmplitudeContrast, "amplitude contrast must be in [0, 1)");
        if (!(p.VoltageKv > 0))
            throw new ArgumentOutOfRangeException(nameof(p), p.VoltageKv, "voltage must be positive (kV)");
        double lambda = p.WavelengthAngst;
        double cs = p.SphericalAberrationMm * 1e7;
        double q = p.AmplitudeContrast;
        _k1 = Math.PI * lambda;
        _k2 = Math.PI / 2 * cs * lambda * lambda * lambda;
        _k3 = Math.Atan(q / Math.Sqrt(1 - q * q));
        _k4 = -p.BFactor / 4;
        _k5 = p.PhaseShiftDeg * Math.PI / 180;
        _avg = -(p.DefocusU + p.DefocusV) / 2;
        _dev = -(p.DefocusU - p.DefocusV) / 2;
        double a = p.DefocusAngleDeg * Math.PI / 180;
        _cos2a = Math.Cos(2 * a);
        _sin2a = Math.Sin(2 * a);
        _scale = p.Scale;
    }

    /// <summary>CTF at spatial frequency (sx, sy) in 1/Å.</summary>
    public double Evaluate(double sx, double sy)
    {
        double u2 = sx * sx + sy * sy;
        // cos(2(theta - angle)) = cos2theta cos2a + sin2theta sin2a, with cos2theta = (x^2 - y^2)/u2, sin2theta = 2xy/u2
        double df = u2 > 0 ? _avg + _dev * (((sx * sx - sy * sy) * _cos2a + 2 * sx * sy * _sin2a) / u2) : _avg;
        double gamma = _k1 * df * u2 + _k2 * u2 * u2 - _k5 - _k3;
        double v = -Math.Sin(gamma) * _scale;
        return _k4 != 0 ? v * Math.Exp(_k4 * u2) : v;
    }

    /// <summary>CTF on the whole D x (D/2+1) half-plane grid (<see cref="FourierLayout"/>), one real value per coefficient.</summary>
    /// <param name="boxSize">D, even</param>
    /// <param name="pixelSize">apix, Å/px</param>
    /// <param name="ctf">receives D*(D/2+1) floats, [ky][kx]</param>
    public void EvaluateHalfPlane(int boxSize, double pixelSize, Span<float> ctf)
    {
        FourierLayout.ValidateBoxSize(boxSize);
        int h = FourierLayout.HalfWidth(boxSize);
        if (ctf.Length != boxSize * h) throw new ArgumentException($"ctf buffer has {ctf.Length} floats, expected D*(D/2+1) = {boxSize * h}", nameof(ctf));
        double f = 1 / (boxSize * pixelSize);
        for (int r = 0; r < boxSize; r++)
        {
            double sy = FourierLayout.FrequencyOfRow(r, boxSize) * f;
            for (int c = 0; c < h; c++)
                ctf[r * h + c] = (float)Evaluate(c * f, sy);
        }
    }

    /// <summary>
    /// CTF on a disc's points, optionally at in-plane-rotated frequencies: ctf_j = CTF(R2(psi) k_j) with
    /// R2(psi) = [[cos psi, sin psi], [-sin psi, cos psi]] (the 2x2 block of RELION's Rz(psi)), exactly the
    /// rotation <c>ImageRotator.Rotate</c> applies to an image, evaluated analytically.
    /// </summary>
    /// <param name="disc">points k_j (integer frequencies of a D x D image)</param>
    /// <param name="pixelSize">apix, Å/px</param>
    /// <param name="ctf">receives disc.Count floats</param>
    /// <param name="psiRad">in-plane angle psi, radians</param>
    public void EvaluateDisc(FourierDisc disc, double pixelSize, Span<float> ctf, double psiRad = 0)
    {
        ArgumentNullException.ThrowIfNull(disc);
        if (ctf.Length != disc.Count) throw new ArgumentException($"ctf buffer has {ctf.Length} floats, expected {disc.Count}", nameof(ctf));
        double f = 1 / (disc.BoxSize * pixelSize);
        double c = Math.Cos(psiRad) * f, s = Math.Sin(psiRad) * f;
        var kx = disc.Kx;
        var ky = disc.Ky;
        for (int j = 0; j < ctf.Length; j++)
            ctf[j] = (float)Evaluate(c * kx[j] + s * ky[j], -s * kx[j] + c * ky[j]);
    }
}
