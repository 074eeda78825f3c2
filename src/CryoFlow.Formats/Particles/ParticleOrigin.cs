namespace CryoFlow.Formats.Particles;

/// <summary>
/// Where a particle was cut from: its micrograph and centre coordinate there (rlnMicrographName,
/// rlnCoordinateX/Y, micrograph pixels), as RELION's extraction writes them for re-extraction and provenance.
/// </summary>
/// <param name="MicrographName">the micrograph path as written</param>
/// <param name="CoordinateX">centre, micrograph px</param>
/// <param name="CoordinateY">centre, micrograph px</param>
public readonly record struct ParticleOrigin(string MicrographName, double CoordinateX, double CoordinateY);
