namespace CryoFlow.Pipeline.Sampling;

/// <summary>
/// Derived random seeds: every stream of randomness in a run (a simulated particle, the minibatch plan, an epoch's
/// order, a particle's importance samples at an iteration) gets its own seed from (run seed, stream numbers), so
/// results depend on neither thread count nor processing order, and a resumed run draws the same numbers.
/// </summary>
public static class Seeds
{
    /// <summary>A 31-bit seed from the run seed and one stream number (a 64-bit finaliser: neighbouring streams are unrelated).</summary>
    public static int Mix(int seed, long stream)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)stream + 0x632BE59BD9B4E019UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    /// <summary>A seed from the run seed and two stream numbers (e.g. iteration and particle).</summary>
    public static int Mix(int seed, long first, long second) => Mix(Mix(seed, first), second);
}
