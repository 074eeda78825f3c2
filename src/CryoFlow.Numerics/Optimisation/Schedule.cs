using System.Collections.Immutable;
using System.Text.Json;

namespace CryoFlow.Numerics.Optimisation;

/// <summary>How a <see cref="Schedule.Piecewise"/> schedule fills the gaps between its breakpoints.</summary>
public enum ScheduleInterpolation
{
    /// <summary>Hold the value of the latest breakpoint at or before the iteration.</summary>
    Step,

    /// <summary>Straight line between neighbouring breakpoints.</summary>
    Linear,
}

/// <summary>
/// A quantity that changes with a counter: the maximum frequency w*, the step scale eps, the line-search
/// interval, the SAG forgetting window... A schedule is a typed value, not an expression: a small closed family
/// of shapes that compose (<see cref="Phases"/>, <see cref="Max"/>, <see cref="Min"/>, <see cref="Clamp"/>),
/// each validated on construction and written to / read from JSON with a <c>"type"</c> discriminator
/// (<see cref="Parse(JsonElement, string)"/>, <see cref="ToJson"/>). A bare JSON number reads as a constant.
/// This is the one schedule type of the product: the optimisers take it and the reconstruction configuration
/// (configs/*.json) holds it for every schedule-valued key.
/// </summary>
/// <remarks>
/// The argument of <see cref="At"/> is whatever counter the caller chooses, 0-based: usually the iteration tau
/// (one minibatch per iteration), but the reference code drives some schedules by the number of changes of w*
/// (see <see cref="ReferenceSchedules"/>). Schedules are immutable and thread-safe.
/// </remarks>
public abstract record Schedule
{
    private protected Schedule() { }

    /// <summary>The value at counter <paramref name="iteration"/> (&gt;= 0).</summary>
    public double At(int iteration)
    {
        if (iteration < 0) throw new ArgumentOutOfRangeException(nameof(iteration), iteration, "schedules are defined for iterations >= 0");
        return Evaluate(iteration);
    }

    private protected abstract double Evaluate(int iteration);

    /// <summary>
    /// Infimum and supremum of the values over all counters &gt;= 0, for range checks before a run. Exact for the
    /// single shapes and their clamps; for <see cref="Phases"/>, <see cref="Max"/> and <see cref="Min"/> an interval
    /// that holds every value, possibly wider (each part is bounded over all counters, not only where it is in force).
    /// </summary>
    public abstract ScheduleBounds Bounds();

    /// <summary>Writes this schedule as a JSON object with a <c>"type"</c> member.</summary>
    public abstract void WriteTo(Utf8JsonWriter writer);

    /// <summary>The schedule as compact JSON, readable by <see cref="Parse(string)"/>.</summary>
    public string ToJson()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) WriteTo(writer);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The JSON form, so that logs and assertion messages show the whole schedule.</summary>
    public sealed override string ToString() => ToJson();

    /// <summary>
    /// Reads a schedule. Unknown or duplicated members, missing members, wrong JSON kinds and out-of-range values
    /// throw a <see cref="JsonException"/> whose <see cref="JsonException.Path"/> (and message) name the offending
    /// element below <paramref name="path"/>, e.g. <c>$.optimiser.stepScale.items[1].every</c>.
    /// </summary>
    /// <param name="element">an object with a <c>"type"</c> member, or a number (a constant)</param>
    /// <param name="path">JSON path of <paramref name="element"/> in its document, for error messages</param>
    public static Schedule Parse(JsonElement element, string path = "$") => ScheduleJson.Read(element, path);

    /// <summary>Reads a schedule from JSON text (see <see cref="Parse(JsonElement, string)"/>).</summary>
    public static Schedule Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return Parse(document.RootElement);
    }

    /// <summary>The same value at every iteration.</summary>
    public sealed record Constant : Schedule
    {
        public Constant(double value) => Value = SettingCheck.Finite(value, "value");

        public double Value { get; }

        private protected override double Evaluate(int iteration) => Value;

        public override ScheduleBounds Bounds() => ScheduleBounds.Exactly(Value);

        public override void WriteTo(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "constant");
            writer.WriteNumber("value", Value);
            writer.WriteEndObject();
        }
    }

    /// <summary>
    /// Values at breakpoints, held (<see cref="ScheduleInterpolation.Step"/>) or joined by straight lines
    /// (<see cref="ScheduleInterpolation.Linear"/>); the first value holds before the first breakpoint and the
    /// last after the last one.
    /// </summary>
    public sealed record Piecewise : Schedule
    {
        /// <param name="points">at least one, iterations strictly increasing and &gt;= 0</param>
        public Piecewise(IEnumerable<Breakpoint> points, ScheduleInterpolation interpolation = ScheduleInterpolation.Step)
        {
            Points = [.. points];
            if (Points.Length == 0) throw new InvalidSettingException("points", "needs at least one breakpoint");
            for (int i = 0; i < Points.Length; i++)
            {
                SettingCheck.AtLeast(Points[i].At, 0, $"points[{i}].at");
                SettingCheck.Finite(Points[i].Value, $"points[{i}].value");
                if (i > 0 && Points[i].At <= Points[i - 1].At)
                    throw new InvalidSettingException($"points[{i}].at", $"breakpoints must be strictly increasing (found {Points[i].At} after {Points[i - 1].At})");
            }
            if (!Enum.IsDefined(interpolation)) throw new InvalidSettingException("interpolation", $"unknown interpolation {interpolation}");
            Interpolation = interpolation;
        }

        public ImmutableArray<Breakpoint> Points { get; }

        public ScheduleInterpolation Interpolation { get; }

        private protected override double Evaluate(int iteration)
        {
            var p = Points;
            if (iteration <= p[0].At) return p[0].Value;
            int i = 1;
            while (i < p.Length && p[i].At <= iteration) i++;
            if (i == p.Length || Interpolation == ScheduleInterpolation.Step) return p[i - 1].Value;
            double t = (double)(iteration - p[i - 1].At) / (p[i].At - p[i - 1].At);
            return p[i - 1].Value + t * (p[i].Value - p[i - 1].Value);
        }

        public override ScheduleBounds Bounds()
        {
            // both interpolations stay between the breakpoint values, which are all taken
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            foreach (var p in Points) (lo, hi) = (Math.Min(lo, p.Value), Math.Max(hi, p.Value));
            return new(lo, hi);
        }

        public bool Equals(Piecewise? other) =>
            other is not null && Interpolation == other.Interpolation && Points.AsSpan().SequenceEqual(other.Points.AsSpan());

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.Add(Interpolation);
            foreach (var p in Points) hash.Add(p);
            return hash.ToHashCode();
        }

        public override void WriteTo(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "piecewise");
            writer.WriteString("interpolation", Interpolation == ScheduleInterpolation.Step ? "step" : "linear");
            writer.WriteStartArray("points");
            foreach (var p in Points)
            {
                writer.WriteStartObject();
                writer.WriteNumber("at", p.At);
                writer.WriteNumber("value", p.Value);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
    }

    /// <summary>
    /// initial * factor^k with k = (tau - offset) / every, or its floor when <see cref="Stepped"/>; k = 0 before
    /// <see cref="Offset"/>; never below <see cref="Floor"/> when one is given. With factor &lt; 1 this is an
    /// exponential decay; stepped with factor 1/2 and every 150 it is the paper's eps (see <see cref="PaperSchedules.StepScale"/>).
    /// </summary>
    public sealed record Exponential : Schedule
    {
        public Exponential(double initial, double factor, int every = 1, bool stepped = false, int offset = 0, double? floor = null)
        {
            Initial = SettingCheck.Finite(initial, "initial");
            Factor = SettingCheck.Positive(factor, "factor");
            Every = SettingCheck.AtLeast(every, 1, "every");
            Stepped = stepped;
            Offset = SettingCheck.AtLeast(offset, 0, "offset");
            Floor = floor is double f ? SettingCheck.Finite(f, "floor") : null;
        }

        public double Initial { get; }
        public double Factor { get; }
        public int Every { get; }
        public bool Stepped { get; }
        public int Offset { get; }
        public double? Floor { get; }

        private protected override double Evaluate(int iteration)
        {
            int t = Math.Max(0, iteration - Offset);
            double k = Stepped ? t / Every : (double)t / Every;
            double v = Initial * Math.Pow(Factor, k);
            return Floor is double f ? Math.Max(f, v) : v;
        }

        public override ScheduleBounds Bounds() => ScheduleBounds.PowersOf(Factor).Times(Initial).Clamp(Floor, null);

        public override void WriteTo(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "exponential");
            writer.WriteNumber("initial", Initial);
            writer.WriteNumber("factor", Factor);
            writer.WriteNumber("every", Every);
            writer.WriteBoolean("stepped", Stepped);
            writer.WriteNumber("offset", Offset);
            if (Floor is double f) writer.WriteNumber("floor", f);
            writer.WriteEndObject();
        }
    }

    /// <summary>
    /// Inverse-power decay initial * (1 + (tau - offset)/scale)^(-exponent) (tau &lt; offset counts as offset), never
    /// below <see cref="Floor"/> when one is given. Exponent 1 is the classical 1/t learning-rate decay.
    /// </summary>
    public sealed record Power : Schedule
    {
        public Power(double initial, double exponent, double scale, int offset = 0, double? floor = null)
        {
            Initial = SettingCheck.Finite(initial, "initial");
            Exponent = SettingCheck.Finite(exponent, "exponent");
            Scale = SettingCheck.Positive(scale, "scale");
            Offset = SettingCheck.AtLeast(offset, 0, "offset");
            Floor = floor is double f ? SettingCheck.Finite(f, "floor") : null;
        }

        public double Initial { get; }
        public double Exponent { get; }
        public double Scale { get; }
        public int Offset { get; }
        public double? Floor { get; }

        private protected override double Evaluate(int iteration)
        {
            int t = Math.Max(0, iteration - Offset);
            double v = Initial * Math.Pow(1 + t / Scale, -Exponent);
            return Floor is double f ? Math.Max(f, v) : v;
        }

        public override ScheduleBounds Bounds()
        {
            // (1 + t/scale)^(-exponent) starts at 1 and decays towards 0 (exponent > 0) or grows without bound (< 0)
            var raw = Exponent switch
            {
                > 0 => new ScheduleBounds(0, 1, InfimumAttained: false),
                < 0 => new ScheduleBounds(1, double.PositiveInfinity, SupremumAttained: false),
                _ => ScheduleBounds.Exactly(1),
            };
            return raw.Times(Initial).Clamp(Floor, null);
        }

        public override void WriteTo(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "power");
            writer.WriteNumber("initial", Initial);
            writer.WriteNumber("exponent", Exponent);
            writer.WriteNumber("scale", Scale);
            writer.WriteNumber("offset", Offset);
            if (Floor is double f) writer.WriteNumber("floor", f);
            writer.WriteEndObject();
        }
    }

    /// <summary>
    /// start + step * floor((tau - offset) / every) (start before <see cref="Offset"/>), stopped at
    /// <see cref="Limit"/> when one is given: a cap for a positive step, a floor for a negative one. The paper's
    /// w*(tau) = min(0.11, 0.02 + 0.005 floor(tau/150)) is (start 0.02, step 0.005, every 150, limit 0.11).
    /// </summary>
    public sealed record Staircase : Schedule
    {
        public Staircase(double start, double step, int every, int offset = 0, double? limit = null)
        {
            Start = SettingCheck.Finite(start, "start");
            Step = SettingCheck.Finite(step, "step");
            Every = SettingCheck.AtLeast(every, 1, "every");
            Offset = SettingCheck.AtLeast(offset, 0, "offset");
            Limit = limit is double l ? SettingCheck.Finite(l, "limit") : null;
        }

        public double Start { get; }
        public double Step { get; }
        public int Every { get; }
        public int Offset { get; }
        public double? Limit { get; }

        private protected override double Evaluate(int iteration)
        {
            int t = Math.Max(0, iteration - Offset);
            double v = Start + Step * (t / Every);
            if (Limit is not double l) return v;
            return Step >= 0 ? Math.Min(l, v) : Math.Max(l, v);
        }

        public override ScheduleBounds Bounds()
        {
            var raw = Step switch
            {
                > 0 => new ScheduleBounds(Start, double.PositiveInfinity, SupremumAttained: false),
                < 0 => new ScheduleBounds(double.NegativeInfinity, Start, InfimumAttained: false),
                _ => ScheduleBounds.Exactly(Start),
            };
            return Step >= 0 ? raw.Clamp(null, Limit) : raw.Clamp(Limit, null);
        }

        public override void WriteTo(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "staircase");
            writer.WriteNumber("start", Start);
            writer.WriteNumber("step", Step);
            writer.WriteNumber("every", Every);
            writer.WriteNumber("offset", Offset);
            if (Limit is double l) writer.WriteNumber("limit", l);
            writer.WriteEndObject();
        }
    }

    /// <summary>
    /// Annealing towards 1: base^(scale / max(1, k)) with k = floor((tau - offset) / every) (k = 0 before
    /// <see cref="Offset"/>), never below <see cref="Floor"/> when one is given. The exponent is scale while k &lt;= 1
    /// and then falls as scale/k, so the value runs from base^scale towards 1 without reaching it. The reference
    /// code's importance-sampling temperature max(1, 2^(750 / max(1, tau - 50))) (REFERENCE 4.3) is (base 2, scale
    /// 750, offset 50, floor 1); the paper's max(1.25, 2^(10 / floor(tau/50))) is (base 2, scale 10, every 50, floor 1.25).
    /// </summary>
    public sealed record Annealing : Schedule
    {
        public Annealing(double @base, double scale, int every = 1, int offset = 0, double? floor = null)
        {
            Base = SettingCheck.Positive(@base, "base");
            Scale = SettingCheck.Finite(scale, "scale");
            if (!double.IsFinite(Math.Pow(Base, Math.Abs(Scale))))
                throw new InvalidSettingException("scale", $"base^scale overflows (base {Base}, scale {Scale})");
            Every = SettingCheck.AtLeast(every, 1, "every");
            Offset = SettingCheck.AtLeast(offset, 0, "offset");
            Floor = floor is double f ? SettingCheck.Finite(f, "floor") : null;
        }

        public double Base { get; }
        public double Scale { get; }
        public int Every { get; }
        public int Offset { get; }
        public double? Floor { get; }

        private protected override double Evaluate(int iteration)
        {
            int k = Math.Max(0, iteration - Offset) / Every;
            double v = Math.Pow(Base, Scale / Math.Max(1, k));
            return Floor is double f ? Math.Max(f, v) : v;
        }

        public override ScheduleBounds Bounds()
        {
            double first = Math.Pow(Base, Scale);
            var raw = first switch
            {
                > 1 => new ScheduleBounds(1, first, InfimumAttained: false),
                < 1 => new ScheduleBounds(first, 1, SupremumAttained: false),
                _ => ScheduleBounds.Exactly(1),
            };
            return raw.Clamp(Floor, null);
        }

        public override void WriteTo(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "annealing");
            writer.WriteNumber("base", Base);
            writer.WriteNumber("scale", Scale);
            writer.WriteNumber("every", Every);
            writer.WriteNumber("offset", Offset);
            if (Floor is double f) writer.WriteNumber("floor", f);
            writer.WriteEndObject();
        }
    }

    /// <summary>
    /// Consecutive phases, each a schedule in force from its <see cref="Phase.From"/> iteration until the next
    /// phase begins. A phase with <see cref="Phase.Restart"/> sees the iteration counted from its own start.
    /// The first phase must start at 0.
    /// </summary>
    public sealed record Phases : Schedule
    {
        public Phases(IEnumerable<Phase> items)
        {
            Items = [.. items];
            if (Items.Length == 0) throw new InvalidSettingException("phases", "needs at least one phase");
            for (int i = 0; i < Items.Length; i++)
            {
                if (Items[i].Schedule is null) throw new InvalidSettingException($"phases[{i}].schedule", "is missing");
                if (i == 0 && Items[0].From != 0) throw new InvalidSettingException("phases[0].from", $"the first phase must start at 0 (found {Items[0].From})");
                if (i > 0 && Items[i].From <= Items[i - 1].From)
                    throw new InvalidSettingException($"phases[{i}].from", $"phases must start at strictly increasing iterations (found {Items[i].From} after {Items[i - 1].From})");
            }
        }

        public ImmutableArray<Phase> Items { get; }

        private protected override double Evaluate(int iteration)
        {
            int i = Items.Length - 1;
            while (Items[i].From > iteration) i--;
            var phase = Items[i];
            return phase.Schedule.Evaluate(phase.Restart ? iteration - phase.From : iteration);
        }

        public override ScheduleBounds Bounds() => ScheduleBounds.Hull(Items.Select(p => p.Schedule.Bounds()));

        public bool Equals(Phases? other) => other is not null && Items.AsSpan().SequenceEqual(other.Items.AsSpan());

        public override int GetHashCode()
        {
            var hash = new HashCode();
            foreach (var p in Items) hash.Add(p);
            return hash.ToHashCode();
        }

        public override void WriteTo(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "phases");
            writer.WriteStartArray("phases");
            foreach (var p in Items)
            {
                writer.WriteStartObject();
                writer.WriteNumber("from", p.From);
                writer.WriteBoolean("restart", p.Restart);
                writer.WritePropertyName("schedule");
                p.Schedule.WriteTo(writer);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
    }

    /// <summary>The largest of several schedules at each iteration (e.g. a decay with a floor).</summary>
    public sealed record Max : Schedule
    {
        public Max(IEnumerable<Schedule> items) => Items = SettingCheck.NonEmpty(items);

        public ImmutableArray<Schedule> Items { get; }

        private protected override double Evaluate(int iteration)
        {
            double v = Items[0].Evaluate(iteration);
            for (int i = 1; i < Items.Length; i++) v = Math.Max(v, Items[i].Evaluate(iteration));
            return v;
        }

        public override ScheduleBounds Bounds() => ScheduleBounds.OfMax(Items.Select(s => s.Bounds()));

        public bool Equals(Max? other) => other is not null && Items.AsSpan().SequenceEqual(other.Items.AsSpan());

        public override int GetHashCode() => SettingCheck.Hash(Items);

        public override void WriteTo(Utf8JsonWriter writer) => ScheduleJson.WriteItems(writer, "max", Items);
    }

    /// <summary>The smallest of several schedules at each iteration (e.g. a growth with a cap).</summary>
    public sealed record Min : Schedule
    {
        public Min(IEnumerable<Schedule> items) => Items = SettingCheck.NonEmpty(items);

        public ImmutableArray<Schedule> Items { get; }

        private protected override double Evaluate(int iteration)
        {
            double v = Items[0].Evaluate(iteration);
            for (int i = 1; i < Items.Length; i++) v = Math.Min(v, Items[i].Evaluate(iteration));
            return v;
        }

        public override ScheduleBounds Bounds() => ScheduleBounds.OfMin(Items.Select(s => s.Bounds()));

        public bool Equals(Min? other) => other is not null && Items.AsSpan().SequenceEqual(other.Items.AsSpan());

        public override int GetHashCode() => SettingCheck.Hash(Items);

        public override void WriteTo(Utf8JsonWriter writer) => ScheduleJson.WriteItems(writer, "min", Items);
    }

    /// <summary>Another schedule kept within [lower, upper] (either bound optional).</summary>
    public sealed record Clamp : Schedule
    {
        public Clamp(Schedule inner, double? lower = null, double? upper = null)
        {
            Inner = inner ?? throw new InvalidSettingException("inner", "is missing");
            Lower = lower is double lo ? SettingCheck.Finite(lo, "lower") : null;
            Upper = upper is double hi ? SettingCheck.Finite(hi, "upper") : null;
            if (Lower > Upper) throw new InvalidSettingException("upper", $"must be >= lower (found lower {Lower}, upper {Upper})");
        }

        public Schedule Inner { get; }
        public double? Lower { get; }
        public double? Upper { get; }

        private protected override double Evaluate(int iteration)
        {
            double v = Inner.Evaluate(iteration);
            if (Lower is double lo) v = Math.Max(lo, v);
            if (Upper is double hi) v = Math.Min(hi, v);
            return v;
        }

        public override ScheduleBounds Bounds() => Inner.Bounds().Clamp(Lower, Upper);

        public override void WriteTo(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "clamp");
            writer.WritePropertyName("inner");
            Inner.WriteTo(writer);
            if (Lower is double lo) writer.WriteNumber("lower", lo);
            if (Upper is double hi) writer.WriteNumber("upper", hi);
            writer.WriteEndObject();
        }
    }
}

/// <summary>A breakpoint of a <see cref="Schedule.Piecewise"/> schedule: <paramref name="Value"/> at iteration <paramref name="At"/>.</summary>
public readonly record struct Breakpoint(int At, double Value);

/// <summary>A phase of a <see cref="Schedule.Phases"/> schedule.</summary>
/// <param name="From">first iteration of the phase</param>
/// <param name="Schedule">the schedule in force during the phase</param>
/// <param name="Restart">whether <paramref name="Schedule"/> sees iterations counted from <paramref name="From"/></param>
public readonly record struct Phase(int From, Schedule Schedule, bool Restart = false);
