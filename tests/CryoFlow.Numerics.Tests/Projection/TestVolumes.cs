using System.Buffers.Binary;
using CryoFlow.TestSupport;

namespace CryoFlow.Numerics.Tests.Projection;

/// <summary>
/// Test-only volume access until the MRC reader is merged: reads the shared hand volume (64^3, mode 2,
/// little-endian) with the data at byte 1024 + NSYMBT.
/// </summary>
internal static class TestVolumes
{
    private static readonly Lazy<float[]> Hand = new(ReadHand);

    public const int HandSize = 64;

    /// <summary>The 64^3 hand density, [z][y][x]. Shared instance: do not modify.</summary>
    public static float[] LoadHandVolume() => Hand.Value;

    private static float[] ReadHand()
    {
        byte[] bytes = File.ReadAllBytes(TestPaths.RealData("volumes/hand-vol.mrc"));
        int nx = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(0)), ny = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4));
        int nz = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8)), mode = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        int nsymbt = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(92));
        if (nx != HandSize || ny != HandSize || nz != HandSize || mode != 2)
            throw new InvalidDataException($"hand-vol.mrc: expected 64^3 mode 2, found {nx}x{ny}x{nz} mode {mode}");
        var v = new float[nx * ny * nz];
        int offset = 1024 + nsymbt;
        for (int i = 0; i < v.Length; i++) v[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(offset + 4 * i));
        return v;
    }
}
