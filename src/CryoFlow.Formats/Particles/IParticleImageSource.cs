namespace CryoFlow.Formats.Particles;

/// <summary>Where particle pixels come from: a table's stacks (<see cref="ParticleImageReader"/>), a cache, or a test double.</summary>
public interface IParticleImageSource
{
    /// <summary>Reads particle <paramref name="index"/>'s pixels into <paramref name="destination"/> (width * height floats, [y][x]).</summary>
    void Read(int index, Span<float> destination);
}
