namespace CryoFlow.Numerics.Ctf;

/// <summary>
/// One particle's CTF, in RELION's units and sign convention (DESIGN.md section 2).
/// </summary>
/// <param name="DefocusU">Å, positive = under-focus, along <paramref name="DefocusAngleDeg"/></param>
/// <param name="DefocusV">Å, positive = under-focus, perpendicular to U</param>
/// <param name="DefocusAngleDeg">degrees, angle from the X axis to the U direction</param>
/// <param name="VoltageKv">acceleration voltage, kV</param>
/// <param name="SphericalAberrationMm">Cs, mm</param>
/// <param name="AmplitudeContrast">fraction in [0, 1), e.g. 0.1</param>
/// <param name="PhaseShiftDeg">additional phase shift (phase plate), degrees</param>
/// <param name="BFactor">envelope B-factor, Å^2 (exp(-B s^2 / 4))</param>
/// <param name="Scale">overall scale (rlnCtfScalefactor)</param>
public readonly record struct CtfParameters(
    double DefocusU,
    double DefocusV,
    double DefocusAngleDeg,
    double VoltageKv,
    double SphericalAberrationMm,
    double AmplitudeContrast,
    double PhaseShiftDeg = 0,
    double BFactor = 0,
    double Scale = 1)
{
    /// <summary>Relativistic electron wavelength in Å for the voltage.</summary>
    public double WavelengthAngst
    {
        get
        {
            double v = VoltageKv * 1000.0;
            return 12.2643247 / Math.Sqrt(v * (1 + 0.978466e-6 * v));
        }
    }

    /// <summary>The evaluator with this particle's constants precomputed.</summary>
    public CtfEvaluator CreateEvaluator() => new(this);

    /// <summary>CTF at spatial frequency (sx, sy) in 1/Å (see <see cref="CtfEvaluator"/>).</summary>
    public double Evaluate(double sx, double sy) => new CtfEvaluator(this).Evaluate(sx, sy);
}
