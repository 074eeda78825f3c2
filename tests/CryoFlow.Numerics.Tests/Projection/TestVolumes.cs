using CryoFlow.Formats.Mrc;
using CryoFlow.TestSupport;

namespace CryoFlow.Numerics.Tests.Projection;

/// <summary>The shared hand volume (64^3), read once with CryoFlow's MRC reader.</summary>
internal static class TestVolumes
{
    private static readonly Lazy<float[]> Hand = new(ReadHand);

    public const int HandSize = 64;

    /// <summary>The 64^3 hand density, [z][y][x]. Shared instance: do not modify.</summary>
    public static float[] LoadHandVolume() => Hand.Value;

    private static float[] ReadHand()
    {
        using var reader = MrcReader.OpenVolume(TestPaths.RealData("volumes/hand-vol.mrc"), Serilog.Core.Logger.None);
        if (reader.Width != HandSize || reader.Height != HandSize || reader.ImageCount != HandSize)
            throw new InvalidDataException($"hand-vol.mrc: expected 64^3, found {reader.Width}x{reader.Height}x{reader.ImageCount}");
        return reader.ReadVolume();
    }
}
