namespace CryoFlow.Pipeline.Simulation;

/// <summary>
/// What `cryoflow simulate` makes. Lengths in Å, shifts in pixels of the output.
/// </summary>
/// <param name="OutputDirectory">receives particles.mrcs and particles.star</param>
/// <param name="Count">number of particles</param>
/// <param name="VoxelSize">Å per voxel the input volume is taken to have (overrides its header); null: the header's</param>
/// <param name="Box">resample the volume (Fourier crop or pad, same physical extent) to this box; null: keep</param>
/// <param name="Snr">signal-to-noise ratio: mean per-image variance of the noiseless CTF-modulated images over the
/// whole box, divided by the white noise variance; +infinity for no noise</param>
/// <param name="DefocusMin">Å, lower end of the uniform defocus range (positive = under-focus)</param>
/// <param name="DefocusMax">Å, upper end</param>
/// <param name="Astigmatism">Å: DefocusV = DefocusU - uniform(0, Astigmatism); the angle is uniform in [0, 180)</param>
/// <param name="ShiftSigma">px, standard deviation of the Gaussian origin shifts per axis</param>
/// <param name="Seed">random seed; a particle's draws depend only on (seed, particle index)</param>
/// <param name="VoltageKv">kV</param>
/// <param name="SphericalAberrationMm">Cs, mm</param>
/// <param name="AmplitudeContrast">fraction</param>
/// <param name="BFactor">Å^2 envelope written to rlnCtfBfactor and applied</param>
/// <param name="Threads">rendering threads</param>
public sealed record SimulateOptions(
    string OutputDirectory,
    long Count,
    double? VoxelSize = null,
    int? Box = null,
    double Snr = 0.1,
    double DefocusMin = 10000,
    double DefocusMax = 30000,
    double Astigmatism = 0,
    double ShiftSigma = 2,
    int Seed = 1,
    double VoltageKv = 300,
    double SphericalAberrationMm = 2.7,
    double AmplitudeContrast = 0.1,
    double BFactor = 0,
    int Threads = 0)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the option that is out of range.</summary>
    public void Validate()
    {
        if (Count < 1 || Count > int.MaxValue) throw new ArgumentException($"--count must be between 1 and {int.MaxValue} (found {Count})");
        if (VoxelSize is double v && !(v > 0)) throw new ArgumentException($"--apix must be positive (found {v})");
        if (Box is int b && (b < 8 || (b & 1) != 0)) throw new ArgumentException($"--box must be even and at least 8 (found {b})");
        if (!(Snr > 0)) throw new ArgumentException($"--snr must be positive or inf (found {Snr})");
        if (!(DefocusMin > 0) || DefocusMax < DefocusMin) throw new ArgumentException($"--defocus must be MIN-MAX with 0 < MIN <= MAX Å (found {DefocusMin}-{DefocusMax})");
        if (Astigmatism < 0 || Astigmatism >= DefocusMin) throw new ArgumentException($"--astigmatism must be in [0, MIN defocus) (found {Astigmatism})");
        if (ShiftSigma < 0) throw new ArgumentException($"--shift-sigma must be >= 0 (found {ShiftSigma})");
        if (!(VoltageKv > 0)) throw new ArgumentException($"--voltage must be positive (found {VoltageKv})");
        if (AmplitudeContrast is < 0 or >= 1) throw new ArgumentException($"--amplitude-contrast must be in [0, 1) (found {AmplitudeContrast})");
    }
}
