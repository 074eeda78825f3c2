using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace CryoFlow.Formats.Mrc;

/// <summary>
/// Voxel conversion between the file's representation and float32. Tight loops over spans: no allocation,
/// no logging, no I/O. Inputs are unaligned byte spans; reinterpreting them as wider integers is legal in
/// .NET (unaligned access) and lets byte swapping use the vectorised span overloads.
/// </summary>
internal static class MrcPixelCodec
{
    /// <summary>Whether file data in this byte order needs swapping on this machine.</summary>
    public static bool NeedsSwap(bool bigEndian) => bigEndian == BitConverter.IsLittleEndian;

    /// <summary>
    /// Decodes <paramref name="destination"/>.Length voxels from <paramref name="source"/>, which holds exactly
    /// <see cref="MrcModes.ByteCount"/> bytes of them. <paramref name="source"/> may be the bytes of
    /// <paramref name="destination"/> itself only for <see cref="MrcMode.Float32"/>.
    /// </summary>
    public static void Decode(MrcMode mode, bool bigEndian, ReadOnlySpan<byte> source, Span<float> destination)
    {
        int n = destination.Length;
        if (source.Length != MrcModes.ByteCount(mode, n))
            throw new ArgumentException($"{source.Length} bytes do not hold {n} voxels of mode {MrcModes.Describe((int)mode)}", nameof(source));
        bool swap = NeedsSwap(bigEndian);
        switch (mode)
        {
            case MrcMode.Float32:
                DecodeFloat32(swap, source, destination);
                break;
            case MrcMode.Int8:
                DecodeInt8(source, destination);
                break;
            case MrcMode.Int16:
                DecodeInt16(swap, MemoryMarshal.Cast<byte, short>(source), destination);
                break;
            case MrcMode.UInt16:
                DecodeUInt16(swap, MemoryMarshal.Cast<byte, ushort>(source), destination);
                break;
            case MrcMode.Float16:
                DecodeFloat16(swap, MemoryMarshal.Cast<byte, ushort>(source), destination);
                break;
            case MrcMode.Packed4Bit:
                DecodePacked4Bit(source, destination);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "mode is not decodable");
        }
    }

    /// <summary>Swaps float32 voxels that were read straight into their destination, in place.</summary>
    public static void SwapFloat32InPlace(Span<float> voxels)
    {
        var ints = MemoryMarshal.Cast<float, int>(voxels);
        BinaryPrimitives.ReverseEndianness(ints, ints);
    }

    private static void DecodeFloat32(bool swap, ReadOnlySpan<byte> source, Span<float> destination)
    {
        var destBytes = MemoryMarshal.AsBytes(destination);
        if (!source.Overlaps(destBytes)) source.CopyTo(destBytes);
        if (swap) SwapFloat32InPlace(destination);
    }

    private static void DecodeInt8(ReadOnlySpan<byte> source, Span<float> destination)
    {
        var s = MemoryMarshal.Cast<byte, sbyte>(source);
        for (int i = 0; i < destination.Length; i++) destination[i] = s[i];
    }

    private static void DecodeInt16(bool swap, ReadOnlySpan<short> s, Span<float> destination)
    {
        if (swap)
            for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReverseEndianness(s[i]);
        else
            for (int i = 0; i < destination.Length; i++) destination[i] = s[i];
    }

    private static void DecodeUInt16(bool swap, ReadOnlySpan<ushort> s, Span<float> destination)
    {
        if (swap)
            for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReverseEndianness(s[i]);
        else
            for (int i = 0; i < destination.Length; i++) destination[i] = s[i];
    }

    private static void DecodeFloat16(bool swap, ReadOnlySpan<ushort> s, Span<float> destination)
    {
        if (swap)
            for (int i = 0; i < destination.Length; i++)
                destination[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReverseEndianness(s[i]));
        else
            for (int i = 0; i < destination.Length; i++)
                destination[i] = (float)BitConverter.UInt16BitsToHalf(s[i]);
    }

    // Low nibble first (IMOD's fill order, which RELION follows); an odd count leaves the last high nibble unused.
    private static void DecodePacked4Bit(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int pairs = destination.Length / 2;
        for (int i = 0; i < pairs; i++)
        {
            byte b = source[i];
            destination[2 * i] = b & 0x0F;
            destination[2 * i + 1] = b >> 4;
        }
        if ((destination.Length & 1) != 0) destination[^1] = source[pairs] & 0x0F;
    }

    /// <summary>
    /// Encodes voxels little-endian in a writable mode and returns, in <paramref name="stored"/>, the values
    /// as a reader will see them (float16 rounds), so header statistics describe the file, not the input.
    /// For <see cref="MrcMode.Float32"/> on a little-endian machine nothing is copied: write
    /// <paramref name="voxels"/> directly; this method is then not needed.
    /// </summary>
    public static void EncodeLittleEndian(MrcMode mode, ReadOnlySpan<float> voxels, Span<byte> destination, Span<float> stored)
    {
        switch (mode)
        {
            case MrcMode.Float32:
                for (int i = 0; i < voxels.Length; i++)
                    BinaryPrimitives.WriteSingleLittleEndian(destination[(4 * i)..], voxels[i]);
                voxels.CopyTo(stored);
                break;
            case MrcMode.Float16:
                var bits = MemoryMarshal.Cast<byte, ushort>(destination[..(2 * voxels.Length)]);
                bool swap = !BitConverter.IsLittleEndian;
                for (int i = 0; i < voxels.Length; i++)
                {
                    Half h = (Half)voxels[i];
                    ushort u = BitConverter.HalfToUInt16Bits(h);
                    bits[i] = swap ? BinaryPrimitives.ReverseEndianness(u) : u;
                    stored[i] = (float)h;
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "the writer produces modes 2 and 12 only");
        }
    }
}
