using System.Globalization;
using CryoFlow.Formats.Coordinates;
using CryoFlow.Numerics.Extraction;

namespace CryoFlow.Pipeline.Stages.Extract;

/// <summary>
/// How particles are cut from micrographs (`cryoflow extract`, `cryoflow reconstruct --micrographs`). Lengths in
/// pixels. The order is RELION's (relion_preprocess --extract): window of <see cref="Box"/> px around the
/// coordinate, Fourier down-sampling to <see cref="OutputBox"/>, contrast inversion, background normalisation.
/// </summary>
public sealed record ExtractOptions
{
    /// <summary>Box cut from the micrograph, px (even); RELION's --extract_size.</summary>
    public required int Box { get; init; }

    /// <summary>Box after Fourier down-sampling, px (even, at most <see cref="Box"/>); null keeps <see cref="Box"/>. RELION's --scale.</summary>
    public int? OutputBox { get; init; }

    /// <summary>Multiply by -1 so protein is white (raw micrographs have dark protein; DESIGN.md 2). RELION's --invert_contrast.</summary>
    public bool InvertContrast { get; init; } = true;

    /// <summary>Background to mean 0, standard deviation 1 (<see cref="BackgroundNormaliser"/>). RELION's --norm.</summary>
    public bool Normalise { get; init; } = true;

    /// <summary>Background radius in px of the output box; null: RELION's GUI default, 75% of half the output box, truncated.</summary>
    public int? BackgroundRadius { get; init; }

    /// <summary>Subtract a plane fitted to the background before normalising (RELION's default; --no_ramp turns it off).</summary>
    public bool SubtractRamp { get; init; } = true;

    /// <summary>Coordinates multiplied by this (Topaz picks on a downsampled image); see <see cref="CoordinateReadOptions.Scale"/>.</summary>
    public double CoordinateScale { get; init; } = 1;

    /// <summary>Keep picks whose score is at least this; null keeps all.</summary>
    public double? MinScore { get; init; }

    /// <summary>Micrograph pixel size in Å, overriding the CTF file's and the MRC header's.</summary>
    public double? PixelSize { get; init; }

    /// <summary>Worker threads (0: all cores).</summary>
    public int Threads { get; init; }

    /// <summary>The box of the extracted images.</summary>
    public int FinalBox => OutputBox ?? Box;

    /// <summary>The background radius used, px of <see cref="FinalBox"/>.</summary>
    public int FinalBackgroundRadius => BackgroundRadius ?? BackgroundNormaliser.DefaultRadius(FinalBox);

    public int ThreadCount => Threads > 0 ? Threads : Environment.ProcessorCount;

    public CoordinateReadOptions CoordinateOptions => new() { Scale = CoordinateScale, MinScore = MinScore };

    /// <summary>The output box for --bin: <paramref name="box"/> / <paramref name="bin"/>, which must be a whole, even number.</summary>
    public static int BinnedBox(int box, double bin)
    {
        double b = box / bin;
        if (!(bin >= 1) || Math.Abs(b - Math.Round(b)) > 1e-9 || (int)Math.Round(b) % 2 != 0)
            throw new ArgumentException($"--bin {bin.ToString(CultureInfo.InvariantCulture)} must be >= 1 and divide --box {box} into an even number of pixels");
        return (int)Math.Round(b);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the option that is out of range.</summary>
    public void Validate()
    {
        if (Box < 8 || Box % 2 != 0) throw new ArgumentException($"--box must be even and at least 8 px (found {Box})");
        if (OutputBox is int o && (o < 8 || o % 2 != 0 || o > Box)) throw new ArgumentException($"the output box must be even, at least 8 and at most --box {Box} (found {o})");
        if (BackgroundRadius is int r && (r < 0 || 2 * r > FinalBox)) throw new ArgumentException($"--bg-radius must be between 0 and half the output box, {FinalBox / 2} px (found {r})");
        if (PixelSize is double a && !(a > 0)) throw new ArgumentException($"--apix must be positive (found {a})");
        if (Threads < 0) throw new ArgumentException($"--threads must be >= 0 (found {Threads})");
        CoordinateOptions.Validate();
    }
}
