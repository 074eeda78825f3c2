namespace CryoFlow.Pipeline.Sampling;

/// <summary>
/// Which particles are held out, which form each minibatch, and the order minibatches are visited in
/// (DESIGN.md 5 and 7, REFERENCE.md 1.6). The particles are shuffled once by the seed; the first
/// <see cref="TestSet"/> are held out and never contribute a gradient; the rest are cut into fixed
/// minibatches (fixed identity is what the SAG gradient history is keyed by), as equal as possible.
/// Each epoch visits every minibatch once, in an order drawn from (seed, epoch), so a resumed run
/// that knows the iteration continues with exactly the same sequence.
/// </summary>
public sealed class MinibatchPlan
{
    private readonly int[][] _batches;
    private readonly int _seed;

    /// <param name="particleCount">particles in the dataset</param>
    /// <param name="testSetSize">held-out particles (clamped so at least one minibatch remains)</param>
    /// <param name="minibatchSize">target minibatch size; the actual sizes differ by at most one</param>
    /// <param name="seed">run seed</param>
    public MinibatchPlan(int particleCount, int testSetSize, int minibatchSize, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(particleCount, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(minibatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(testSetSize);
        _seed = seed;
        var order = Enumerable.Range(0, particleCount).ToArray();
        new Random(Seeds.Mix(seed, -1)).Shuffle(order);
        int test = Math.Min(testSetSize, particleCount - 1);
        TestSet = order[..test];
        Array.Sort(TestSet);
        int train = particleCount - test;
        int batches = Math.Max(1, train / minibatchSize);
        _batches = new int[batches][];
        // sizes floor(train / batches), the remainder spread as +1 over the last batches
        int small = train / batches, extra = train % batches, at = test;
        for (int b = 0; b < batches; b++)
        {
            int size = small + (b >= batches - extra ? 1 : 0);
            _batches[b] = order[at..(at + size)];
            at += size;
        }
    }

    /// <summary>Held-out particle indices, ascending.</summary>
    public int[] TestSet { get; }

    public int BatchCount => _batches.Length;

    public int TrainingCount => _batches.Sum(b => b.Length);

    /// <summary>The particles of minibatch <paramref name="batch"/> (fixed for the whole run).</summary>
    public ReadOnlySpan<int> Batch(int batch) => _batches[batch];

    /// <summary>The minibatch visited at 1-based iteration <paramref name="iteration"/>.</summary>
    public int BatchAt(long iteration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iteration, 1);
        long epoch = (iteration - 1) / BatchCount;
        int position = (int)((iteration - 1) % BatchCount);
        return EpochOrder(epoch)[position];
    }

    /// <summary>The order of minibatches in an epoch (0-based), a permutation drawn from (seed, epoch).</summary>
    public int[] EpochOrder(long epoch)
    {
        var order = Enumerable.Range(0, BatchCount).ToArray();
        new Random(Seeds.Mix(_seed, epoch)).Shuffle(order);
        return order;
    }
}
