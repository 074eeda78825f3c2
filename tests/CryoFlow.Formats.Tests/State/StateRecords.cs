namespace CryoFlow.Formats.Tests.State;

/// <summary>Deterministic test records: sizes mostly 50-400 bytes, some to 4 KB, a few to 50 KB, as IS states are.</summary>
internal static class StateRecords
{
    public static byte[] Make(Random rng)
    {
        double u = rng.NextDouble();
        int length = u < 0.9 ? rng.Next(50, 400) : u < 0.998 ? rng.Next(400, 4096) : rng.Next(4096, 50_000);
        if (rng.Next(200) == 0) length = rng.Next(0, 8); // empty and sub-word records too
        var bytes = new byte[length];
        rng.NextBytes(bytes);
        return bytes;
    }

    /// <summary>The record particle <paramref name="particle"/> gets at its <paramref name="version"/>-th put.</summary>
    /// (seeded deterministically: HashCode.Combine is randomised per process, which made sizes, and size-based checks, vary between runs)
    public static byte[] For(long particle, int version) => Make(new Random(unchecked((int)(particle * 1_000_003L + version * 7_919L + 17))));
}
