namespace CryoFlow.Pipeline.Sampling;

/// <summary>
/// Which particles are held out, which form each minibatch, and the order minibatches are visited in
/// (DESIGN.md 5 and 7, REFERENCE.md 1.6). The particles are shuffled once by the seed; the first
/// <see cref="TestSet"/> are held out and never contribute a gradient; the rest are cut into fixed
/// minibatches (fixed identity is what the SAG gradient history is keyed by), as equal as possible.
/// Each epoch visits every minibatch once, in an order drawn from (seed, epoch), so a resumed run
/// that knows the iteration continues with exactly the same sequence.
/// <para>A live run's plan grows (<see cref="Grow"/>): particles that arrived join at the start of an epoch as new
/// minibatches, cut from their own shuffle (drawn from the seed and the number of growths so far, so it depends only
/// on the order of arrival and the epoch they join); from then on every epoch visits the old and new minibatches in
/// one order drawn from (seed, epoch). The held-out set never changes.</para>
/// </summary>
public sealed class MinibatchPlan
{
    private readonly List<int[]> _batches;
    private readonly int _seed, _minibatchSize;

    /// <summary>From <see cref="FirstIteration"/> on, epochs of <see cref="Batches"/> minibatches, the first of them epoch <see cref="FirstEpoch"/>.</summary>
    private readonly record struct Segment(long FirstIteration, int Batches, long FirstEpoch);

    private readonly List<Segment> _segments = [];

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
        _minibatchSize = minibatchSize;
        var order = Enumerable.Range(0, particleCount).ToArray();
        new Random(Seeds.Mix(seed, -1)).Shuffle(order);
        int test = Math.Min(testSetSize, particleCount - 1);
        TestSet = order[..test];
        Array.Sort(TestSet);
        int train = particleCount - test;
        _batches = Cut(order.AsSpan(test), minibatchSize);
        _segments.Add(new Segment(1, _batches.Count, 0));
    }

    /// <summary>Minibatches of about <paramref name="size"/>, as equal as possible: floor(n / batches), the remainder spread as +1 over the last.</summary>
    private static List<int[]> Cut(ReadOnlySpan<int> particles, int size)
    {
        int n = particles.Length;
        int batches = Math.Max(1, n / size);
        var list = new List<int[]>(batches);
        int small = n / batches, extra = n % batches, at = 0;
        for (int b = 0; b < batches; b++)
        {
            int length = small + (b >= batches - extra ? 1 : 0);
            list.Add(particles.Slice(at, length).ToArray());
            at += length;
        }
        return list;
    }

    /// <summary>Whether 1-based <paramref name="iteration"/> is the first of an epoch.</summary>
    public bool StartsEpoch(long iteration)
    {
        var s = SegmentAt(iteration);
        return (iteration - s.FirstIteration) % s.Batches == 0;
    }

    /// <summary>
    /// Adds training particles (a live run's new arrivals, in order of arrival) as new minibatches of about the plan's
    /// size, visited from <paramref name="fromIteration"/> on, which must start an epoch (<see cref="StartsEpoch"/>).
    /// </summary>
    /// <returns>the number of minibatches added</returns>
    public int Grow(IReadOnlyList<int> particles, long fromIteration)
    {
        if (particles.Count == 0) return 0;
        if (!StartsEpoch(fromIteration)) throw new ArgumentException($"iteration {fromIteration} does not start an epoch", nameof(fromIteration));
        var s = SegmentAt(fromIteration);
        long epoch = s.FirstEpoch + (fromIteration - s.FirstIteration) / s.Batches;
        var order = particles.ToArray();
        new Random(Seeds.Mix(_seed, -2 - _segments.Count)).Shuffle(order);
        var added = Cut(order, _minibatchSize);
        _batches.AddRange(added);
        if (s.FirstIteration == fromIteration) _segments[^1] = s with { Batches = _batches.Count };
        else _segments.Add(new Segment(fromIteration, _batches.Count, epoch));
        return added.Count;
    }

    private Segment SegmentAt(long iteration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iteration, 1);
        for (int i = _segments.Count - 1; i > 0; i--)
            if (_segments[i].FirstIteration <= iteration) return _segments[i];
        return _segments[0];
    }

    /// <summary>Held-out particle indices, ascending.</summary>
    public int[] TestSet { get; }

    public int BatchCount => _batches.Count;

    public int TrainingCount => _batches.Sum(b => b.Length);

    /// <summary>The particles of minibatch <paramref name="batch"/> (fixed for the whole run).</summary>
    public ReadOnlySpan<int> Batch(int batch) => _batches[batch];

    /// <summary>The minibatch visited at 1-based iteration <paramref name="iteration"/>.</summary>
    public int BatchAt(long iteration)
    {
        var s = SegmentAt(iteration);
        long k = iteration - s.FirstIteration;
        return EpochOrder(s.FirstEpoch + k / s.Batches, s.Batches)[(int)(k % s.Batches)];
    }

    /// <summary>The order of minibatches in an epoch (0-based), a permutation drawn from (seed, epoch).</summary>
    public int[] EpochOrder(long epoch) => EpochOrder(epoch, BatchCount);

    private int[] EpochOrder(long epoch, int batches)
    {
        var order = Enumerable.Range(0, batches).ToArray();
        new Random(Seeds.Mix(_seed, epoch)).Shuffle(order);
        return order;
    }
}
