using System.Buffers.Binary;
using System.Numerics;

namespace CryoFlow.Formats.State;

/// <summary>
/// CryoFlow's own 64-bit checksum for state records and snapshot sections (System.IO.Hashing is a separate package
/// and not referenced). Not cryptographic; it exists to detect torn writes, truncation and flipped bits.
/// <para>
/// Construction: the input is read as little-endian 64-bit words (a last partial word is zero-padded). Each word w
/// updates the state h as <c>h = rotl(h ^ (w * P1), 29) * P2</c>; the result is <c>avalanche(h ^ length * P3)</c>, with
/// avalanche an xor-shift / odd-multiply cascade. For a fixed word every step is a bijection of h (xor, rotation
/// and multiplication by an odd constant are all invertible), and so is the avalanche, so two inputs of equal length
/// that differ in exactly one word always hash differently: any single flipped byte is detected with certainty, and
/// a change in length changes the final mix. Speed is one multiply chain per 8 bytes (a few GB/s), far above disk.
/// </para>
/// </summary>
public static class StateHash64
{
    private const ulong P1 = 0x9E3779B97F4A7C15UL;
    private const ulong P2 = 0xC2B2AE3D27D4EB4FUL;
    private const ulong P3 = 0x165667B19E3779F9UL;

    /// <summary>The starting state for <paramref name="seed"/> (e.g. the particle index, so a record moved to
    /// another particle's slot does not verify).</summary>
    public static ulong Begin(ulong seed) => (seed ^ 0x27D4EB2F165667C5UL) * P1;

    /// <summary>Folds whole 8-byte words into <paramref name="state"/>; the length must be a multiple of 8
    /// (streamed sections such as the snapshot index are).</summary>
    public static ulong AppendWords(ulong state, ReadOnlySpan<byte> words)
    {
        if ((words.Length & 7) != 0)
            throw new ArgumentException($"{words.Length} bytes is not a whole number of 8-byte words", nameof(words));
        for (int i = 0; i < words.Length; i += 8)
            state = Step(state, BinaryPrimitives.ReadUInt64LittleEndian(words.Slice(i, 8)));
        return state;
    }

    /// <summary>The hash of everything appended, <paramref name="totalLength"/> bytes in all.</summary>
    public static ulong Finish(ulong state, long totalLength)
    {
        ulong h = state ^ ((ulong)totalLength * P3);
        h ^= h >> 33;
        h *= P2;
        h ^= h >> 29;
        h *= P1;
        h ^= h >> 32;
        return h;
    }

    /// <summary>The hash of <paramref name="data"/> of any length.</summary>
    public static ulong Compute(ReadOnlySpan<byte> data, ulong seed = 0)
    {
        int whole = data.Length & ~7;
        ulong h = AppendWords(Begin(seed), data[..whole]);
        if (whole < data.Length)
        {
            Span<byte> tail = stackalloc byte[8];
            tail.Clear();
            data[whole..].CopyTo(tail);
            h = Step(h, BinaryPrimitives.ReadUInt64LittleEndian(tail));
        }
        return Finish(h, data.Length);
    }

    private static ulong Step(ulong h, ulong w) => BitOperations.RotateLeft(h ^ (w * P1), 29) * P2;
}
