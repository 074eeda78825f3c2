namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// The infimum and supremum of a schedule's values over all counters &gt;= 0 (<see cref="Schedule.Bounds"/>), and
/// whether each is reached: a decay towards 0 has infimum 0, not attained. Used to check a configured schedule
/// against the range of its quantity before a run starts.
/// </summary>
/// <param name="Infimum">greatest lower bound (may be -infinity)</param>
/// <param name="Supremum">least upper bound (may be +infinity)</param>
/// <param name="InfimumAttained">whether some counter gives exactly <paramref name="Infimum"/></param>
/// <param name="SupremumAttained">whether some counter gives exactly <paramref name="Supremum"/></param>
public readonly record struct ScheduleBounds(double Infimum, double Supremum, bool InfimumAttained = true, bool SupremumAttained = true)
{
    /// <summary>A schedule that takes one value.</summary>
    public static ScheduleBounds Exactly(double value) => new(value, value);

    /// <summary>True when every value lies in the interval from <paramref name="lo"/> to <paramref name="hi"/> (open at an end when asked).</summary>
    public bool Within(double lo, double hi, bool lowOpen = false, bool highOpen = false)
    {
        bool lowOk = lowOpen ? Infimum > lo || (Infimum == lo && !InfimumAttained) : Infimum >= lo;
        bool highOk = highOpen ? Supremum < hi || (Supremum == hi && !SupremumAttained) : Supremum <= hi;
        return lowOk && highOk;
    }

    /// <summary>
    /// The bounds of max(lower, min(upper, v)). A bound moved by the clamp is attained: values lie beyond the clamp
    /// (the old bound is a limit of values), so some are clamped onto it. A clamp at or beyond an unattained bound
    /// from the far side makes every value equal to the clamp.
    /// </summary>
    internal ScheduleBounds Clamp(double? lower, double? upper)
    {
        var (inf, sup, infHit, supHit) = (Infimum, Supremum, InfimumAttained, SupremumAttained);
        if (lower is double lo)
        {
            (infHit, supHit) = (infHit || lo > inf, supHit || lo >= sup);
            (inf, sup) = (Math.Max(lo, inf), Math.Max(lo, sup));
        }
        if (upper is double hi)
        {
            (infHit, supHit) = (infHit || hi <= inf, supHit || hi < sup);
            (inf, sup) = (Math.Min(hi, inf), Math.Min(hi, sup));
        }
        return new(inf, sup, infHit, supHit);
    }

    /// <summary>The bounds of c v: a negative factor swaps the ends.</summary>
    internal ScheduleBounds Times(double c) => c switch
    {
        0 => Exactly(0),
        > 0 => new(c * Infimum, c * Supremum, InfimumAttained, SupremumAttained),
        _ => new(c * Supremum, c * Infimum, SupremumAttained, InfimumAttained),
    };

    /// <summary>Bounds of r^k over k &gt;= 0 (real or whole), r &gt; 0: (0, 1] for r &lt; 1, [1, +inf) for r &gt; 1.</summary>
    internal static ScheduleBounds PowersOf(double r) => r switch
    {
        < 1 => new(0, 1, InfimumAttained: false),
        > 1 => new(1, double.PositiveInfinity, SupremumAttained: false),
        _ => Exactly(1),
    };

    /// <summary>
    /// An interval holding the values of any of several schedules (for <see cref="Schedule.Phases"/>): from the lowest
    /// infimum to the highest supremum, each attained when a part that has it attains it.
    /// </summary>
    internal static ScheduleBounds Hull(IEnumerable<ScheduleBounds> parts)
    {
        var all = parts.ToArray();
        double inf = all.Min(b => b.Infimum), sup = all.Max(b => b.Supremum);
        return new(inf, sup,
            all.Any(b => b.Infimum == inf && b.InfimumAttained),
            all.Any(b => b.Supremum == sup && b.SupremumAttained));
    }

    /// <summary>
    /// An interval holding the pointwise maximum of several schedules: it is at least every part's infimum (strictly
    /// above it where that infimum is not attained) and at most the largest supremum.
    /// </summary>
    internal static ScheduleBounds OfMax(IEnumerable<ScheduleBounds> parts)
    {
        var all = parts.ToArray();
        double inf = all.Max(b => b.Infimum), sup = all.Max(b => b.Supremum);
        return new(inf, sup,
            !all.Any(b => b.Infimum == inf && !b.InfimumAttained),
            all.Any(b => b.Supremum == sup && b.SupremumAttained));
    }

    /// <summary>The mirror image of <see cref="OfMax"/> for the pointwise minimum.</summary>
    internal static ScheduleBounds OfMin(IEnumerable<ScheduleBounds> parts)
    {
        var all = parts.ToArray();
        double inf = all.Min(b => b.Infimum), sup = all.Min(b => b.Supremum);
        return new(inf, sup,
            all.Any(b => b.Infimum == inf && b.InfimumAttained),
            !all.Any(b => b.Supremum == sup && !b.SupremumAttained));
    }
}
