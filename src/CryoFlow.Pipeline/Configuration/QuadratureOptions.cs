using CryoFlow.Numerics.Optimisation;
using CryoFlow.Numerics.Quadrature;

namespace CryoFlow.Pipeline.Configuration;

/// <summary>
/// The pose quadrature (DESIGN 4.1, REFERENCE 2). The undersampling schedules run on the <b>stage</b> clock: the number
/// of changes of w* so far (0 at the start), as in the reference code (REFERENCE 2.5), so they follow whatever
/// resolution schedule is configured.
/// </summary>
public sealed record QuadratureOptions : IConfigSection
{
    /// <summary>Direction grid coarsening (alpha -> us alpha), by stage: 1.5, 1.25 from stage 2, 1 from stage 4 (REFERENCE 2.5).</summary>
    public Schedule UndersampleDirections { get; init; } = ReferenceUndersampling();

    /// <summary>In-plane grid coarsening, by stage (REFERENCE 2.3, 2.5: as the directions).</summary>
    public Schedule UndersampleInPlane { get; init; } = ReferenceUndersampling();

    /// <summary>Shift grid coarsening, by stage (as the directions, on the paper's one-sample-per-period spacing).</summary>
    public Schedule UndersampleShifts { get; init; } = ReferenceUndersampling();

    /// <summary>Shift samples per period at w* (DESIGN 4.1: about 1; the reference code's spacing is 2, REFERENCE 2.4).</summary>
    public double ShiftSamplesPerPeriod { get; init; } = 1;

    /// <summary>Standard deviation of the Gaussian shift prior, Å (REFERENCE 2.4: 10).</summary>
    public double ShiftSigma { get; init; } = 10;

    /// <summary>Radius of the shift search disc, Å (REFERENCE 2.4: 60).</summary>
    public double ShiftExtent { get; init; } = 60;

    /// <summary>Shift rule (REFERENCE 2.4, the papers: Gauss-Hermite).</summary>
    public ShiftRule ShiftRule { get; init; } = ShiftRule.Hermite;

    /// <summary>Point group whose asymmetric unit restricts the directions: C1, Cn or Dn (DESIGN 4.1; REFERENCE 2.6: off).</summary>
    public string Symmetry { get; init; } = "C1";

    /// <summary>The quadrature of one stage: w* and the stage's undersampling (DESIGN 4.1).</summary>
    /// <param name="maxFrequency">w*, 1/Å</param>
    /// <param name="stage">the stage clock of the undersampling schedules (number of changes of w* so far)</param>
    public QuadratureLevel LevelAt(int boxSize, double pixelSize, double maxFrequency, int stage) =>
        QuadratureLevel.Create(new QuadratureSpec(boxSize, pixelSize, maxFrequency)
        {
            UndersampleDirections = UndersampleDirections.At(stage),
            UndersampleInPlane = UndersampleInPlane.At(stage),
            UndersampleShifts = UndersampleShifts.At(stage),
            ShiftSamplesPerPeriod = ShiftSamplesPerPeriod,
            ShiftSigmaAngst = ShiftSigma,
            ShiftExtentAngst = ShiftExtent,
            ShiftRule = ShiftRule,
        });

    private static Schedule.Piecewise ReferenceUndersampling() => new([new(0, 1.5), new(2, 1.25), new(4, 1.0)]);

    void IConfigSection.Validate(ConfigChecks check)
    {
        check.ScheduleValues(nameof(UndersampleDirections), UndersampleDirections, 0, double.PositiveInfinity, lowOpen: true);
        check.ScheduleValues(nameof(UndersampleInPlane), UndersampleInPlane, 0, double.PositiveInfinity, lowOpen: true);
        check.ScheduleValues(nameof(UndersampleShifts), UndersampleShifts, 0, double.PositiveInfinity, lowOpen: true);
        check.Positive(nameof(ShiftSamplesPerPeriod), ShiftSamplesPerPeriod);
        check.Positive(nameof(ShiftSigma), ShiftSigma);
        check.AtLeast(nameof(ShiftExtent), ShiftExtent, 0.0);
        if (Symmetry is not null && !IsPointGroup(Symmetry))
            check.Fail(nameof(Symmetry), $"expected a point group C1, Cn or Dn (n >= 1), found \"{Symmetry}\"");
    }

    private static bool IsPointGroup(string s) =>
        s.Length >= 2 && (s[0] is 'C' or 'D') && s[1] != '0' && s[1..].All(char.IsAsciiDigit) && int.TryParse(s[1..], out _);
}
