namespace CryoFlow.Formats.Particles;

/// <summary>RELION column labels CryoFlow reads or writes (3dem/relion src/metadata_label.h), without the underscore.</summary>
public static class RelionLabels
{
    public const string ImageName = "rlnImageName";
    public const string OpticsGroup = "rlnOpticsGroup";
    public const string OpticsGroupName = "rlnOpticsGroupName";

    public const string ImagePixelSize = "rlnImagePixelSize";
    public const string MicrographOriginalPixelSize = "rlnMicrographOriginalPixelSize";
    public const string ImageSize = "rlnImageSize";
    public const string ImageDimensionality = "rlnImageDimensionality";
    /// <summary>RELION 3.0: µm.</summary>
    public const string DetectorPixelSize = "rlnDetectorPixelSize";
    /// <summary>RELION 3.0: pixel size Å = 10000 * DetectorPixelSize / Magnification.</summary>
    public const string Magnification = "rlnMagnification";

    public const string Voltage = "rlnVoltage";
    public const string SphericalAberration = "rlnSphericalAberration";
    public const string AmplitudeContrast = "rlnAmplitudeContrast";
    public const string DefocusU = "rlnDefocusU";
    public const string DefocusV = "rlnDefocusV";
    public const string DefocusAngle = "rlnDefocusAngle";
    public const string PhaseShift = "rlnPhaseShift";
    public const string CtfBfactor = "rlnCtfBfactor";
    public const string CtfScalefactor = "rlnCtfScalefactor";

    public const string AngleRot = "rlnAngleRot";
    public const string AngleTilt = "rlnAngleTilt";
    public const string AnglePsi = "rlnAnglePsi";
    /// <summary>RELION 3.1+: Å.</summary>
    public const string OriginXAngst = "rlnOriginXAngst";
    public const string OriginYAngst = "rlnOriginYAngst";
    /// <summary>RELION 3.0: pixels.</summary>
    public const string OriginX = "rlnOriginX";
    public const string OriginY = "rlnOriginY";

    public const string MicrographName = "rlnMicrographName";
    /// <summary>Å/px of the micrographs (3.1+ micrograph optics).</summary>
    public const string MicrographPixelSize = "rlnMicrographPixelSize";
    /// <summary>In an autopick list: the coordinate file of a micrograph.</summary>
    public const string MicrographCoordinates = "rlnMicrographCoordinates";
    public const string AutopickFigureOfMerit = "rlnAutopickFigureOfMerit";
    public const string CtfFigureOfMerit = "rlnCtfFigureOfMerit";
    /// <summary>Å: resolution to which the CTF fit holds.</summary>
    public const string CtfMaxResolution = "rlnCtfMaxResolution";
    /// <summary>Å: DefocusU - DefocusV.</summary>
    public const string CtfAstigmatism = "rlnCtfAstigmatism";
    /// <summary>Particle centre in the micrograph, px.</summary>
    public const string CoordinateX = "rlnCoordinateX";
    public const string CoordinateY = "rlnCoordinateY";

    public const string RandomSubset = "rlnRandomSubset";
    public const string ClassNumber = "rlnClassNumber";
    public const string MaxValueProbDistribution = "rlnMaxValueProbDistribution";
}
