using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace CryoFlow.Numerics.Fourier;

/// <summary>
/// How hard FFTW's planner searches. Estimate plans instantly and always picks the same algorithm (bitwise
/// reproducible runs). Measure times candidates once per size (about 2x faster transforms at 128, seconds of
/// planning for large 3D sizes) and may pick different algorithms from run to run.
/// </summary>
public enum FftwPlanning
{
    Estimate,
    Measure,
}

/// <summary>
/// FFT backend on native single-precision FFTW 3 (libfftw3f), loaded at run time. Plans are created under a
/// process-wide lock and executed with FFTW's new-array functions on 64-byte-aligned per-thread scratch, so
/// one plan serves any number of threads. Caller buffers are used directly when FFTW's alignment allows.
/// </summary>
public sealed unsafe class FftwBackend : IFftBackend
{
    private readonly ConcurrentDictionary<(int Rank, int Size), Lazy<Plan>> _plans = new();
    private readonly uint _flags;

    private FftwBackend(FftwPlanning planning) => _flags = planning == FftwPlanning.Measure ? FftwNative.Measure : FftwNative.Estimate;

    /// <summary>True when libfftw3f could be loaded.</summary>
    public static bool IsAvailable => FftwNative.IsAvailable;

    /// <summary>The library name that loaded, or null.</summary>
    public static string? LibraryName => FftwNative.LoadedFrom;

    /// <summary>Process-wide instance (estimate planning), or null when libfftw3f is absent.</summary>
    public static FftwBackend? Instance { get; } = FftwNative.IsAvailable ? new FftwBackend(FftwPlanning.Estimate) : null;

    /// <summary>A backend with the given planner effort, or null when libfftw3f is absent.</summary>
    public static FftwBackend? TryCreate(FftwPlanning planning) => FftwNative.IsAvailable ? new FftwBackend(planning) : null;

    public string Name => "fftw";

    public IFft2D Plan2D(int boxSize)
    {
        FourierLayout.ValidateBoxSize(boxSize);
        return _plans.GetOrAdd((2, boxSize), k => new Lazy<Plan>(() => new Plan(k.Size, 2, _flags))).Value;
    }

    public IFft3D Plan3D(int boxSize)
    {
        FourierLayout.ValidateBoxSize(boxSize);
        return _plans.GetOrAdd((3, boxSize), k => new Lazy<Plan>(() => new Plan(k.Size, 3, _flags))).Value;
    }

    /// <summary>A float buffer on the pinned heap whose first element is 64-byte aligned.</summary>
    private sealed class AlignedBuffer
    {
        private readonly float[] _array;
        private readonly int _offset;
        private readonly int _length;

        public AlignedBuffer(int length)
        {
            _length = length;
            _array = GC.AllocateArray<float>(length + 16, pinned: true);
            nuint address = (nuint)Unsafe.AsPointer(ref _array[0]);
            _offset = (int)(((64 - (address & 63)) & 63) / sizeof(float));
        }

        public float* Pointer => (float*)Unsafe.AsPointer(ref _array[_offset]);

        public Span<float> Span => _array.AsSpan(_offset, _length);
    }

    private sealed class Scratch(int realLength, int complexLength)
    {
        public readonly AlignedBuffer Real = new(realLength);
        public readonly AlignedBuffer Complex = new(complexLength);
    }

    private sealed class Plan : IFft2D, IFft3D
    {
        private readonly nint _forward, _inverse;
        private readonly float _scale;
        private readonly ThreadLocal<Scratch> _scratch;

        public Plan(int d, int rank, uint flags)
        {
            BoxSize = d;
            Rank = rank;
            RealLength = rank == 2 ? checked(d * d) : checked(d * d * d);
            ComplexLength = checked(2 * (rank == 2 ? FourierLayout.HalfPlaneLength(d) : FourierLayout.HalfSpaceLength(d)));
            _scale = (float)(1.0 / Math.Sqrt((double)RealLength));
            _scratch = new ThreadLocal<Scratch>(() => new Scratch(RealLength, ComplexLength));
            var s = _scratch.Value!;
            lock (FftwNative.PlannerLock)
            {
                if (rank == 2)
                {
                    _forward = FftwNative.PlanR2C2D(d, d, s.Real.Pointer, s.Complex.Pointer, flags);
                    _inverse = FftwNative.PlanC2R2D(d, d, s.Complex.Pointer, s.Real.Pointer, flags);
                }
                else
                {
                    _forward = FftwNative.PlanR2C3D(d, d, d, s.Real.Pointer, s.Complex.Pointer, flags);
                    _inverse = FftwNative.PlanC2R3D(d, d, d, s.Complex.Pointer, s.Real.Pointer, flags);
                }
            }
            if (_forward == 0 || _inverse == 0)
                throw new InvalidOperationException($"FFTW could not plan a {rank}D transform of size {d}");
        }

        public int BoxSize { get; }
        public int Rank { get; }
        public int RealLength { get; }
        public int ComplexLength { get; }

        public void Forward(ReadOnlySpan<float> real, Span<float> halfComplex)
        {
            FftPacking.CheckLengths(this, real.Length, halfComplex.Length);
            var s = _scratch.Value!;
            fixed (float* caller = real)
            {
                float* input = caller;
                if (FftwNative.AlignmentOf(caller) != 0)
                {
                    real.CopyTo(s.Real.Span);
                    input = s.Real.Pointer;
                }
                // Out-of-place r2c preserves its input, so the caller's read-only buffer is safe to pass.
                FftwNative.ExecuteR2C(_forward, input, s.Complex.Pointer);
            }
            FftPacking.ScaleModulate(s.Complex.Span, halfComplex, BoxSize, Rank, _scale);
        }

        public void Inverse(ReadOnlySpan<float> halfComplex, Span<float> real)
        {
            FftPacking.CheckLengths(this, real.Length, halfComplex.Length);
            var s = _scratch.Value!;
            // c2r destroys its input and assumes Hermitian symmetry: work on a symmetrised scratch copy.
            FftPacking.ScaleModulate(halfComplex, s.Complex.Span, BoxSize, Rank, _scale);
            FftPacking.SymmetrizeDoublyStored(s.Complex.Span, BoxSize, Rank);
            fixed (float* caller = real)
            {
                if (FftwNative.AlignmentOf(caller) == 0)
                {
                    FftwNative.ExecuteC2R(_inverse, s.Complex.Pointer, caller);
                }
                else
                {
                    FftwNative.ExecuteC2R(_inverse, s.Complex.Pointer, s.Real.Pointer);
                    s.Real.Span.CopyTo(real);
                }
            }
        }
    }
}
