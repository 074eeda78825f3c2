namespace CryoFlow.Formats.Particles;

/// <summary>
/// The values that define an optics group; also the key used to build optics groups for RELION 3.0
/// and cryoSPARC input, where every distinct combination becomes one group. Null = not given.
/// </summary>
/// <param name="PixelSizeAngst">Å/px of the particle images</param>
/// <param name="ImageSize">box size, px</param>
/// <param name="VoltageKv">kV</param>
/// <param name="SphericalAberrationMm">Cs, mm</param>
/// <param name="AmplitudeContrast">fraction, e.g. 0.1</param>
public readonly record struct OpticsSettings(
    double? PixelSizeAngst,
    int? ImageSize,
    double? VoltageKv,
    double? SphericalAberrationMm,
    double? AmplitudeContrast);

/// <summary>
/// One optics group (a row of <c>data_optics</c>, or one built from distinct per-particle values for
/// RELION 3.0 and cryoSPARC input).
/// </summary>
/// <param name="Number">rlnOpticsGroup, 1-based</param>
/// <param name="Name">rlnOpticsGroupName (RELION's default "opticsGroupN" when absent)</param>
/// <param name="Settings">pixel size, box, voltage, Cs, amplitude contrast as the group gives them</param>
/// <param name="SourceRow">row of data_optics it was read from; null when built by CryoFlow</param>
public sealed record OpticsGroup(int Number, string Name, OpticsSettings Settings, int? SourceRow)
{
    public double? PixelSizeAngst => Settings.PixelSizeAngst;

    public int? ImageSize => Settings.ImageSize;

    public double? VoltageKv => Settings.VoltageKv;

    public double? SphericalAberrationMm => Settings.SphericalAberrationMm;

    public double? AmplitudeContrast => Settings.AmplitudeContrast;

    public static string DefaultName(int number) => "opticsGroup" + number.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
