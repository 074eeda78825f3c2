using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CryoFlow.Numerics.Likelihood;

/// <summary>
/// Argument checks shared by the GEMMs and the likelihood kernel: every length is checked once at the
/// top of a call so the loops below can index without bounds checks. Throwing lives in
/// non-inlined helpers so the checked methods stay small.
/// </summary>
internal static class KernelGuard
{
    /// <summary>True where the Vector256 + FMA paths run (x64 with AVX2/FMA3); elsewhere the scalar paths run.</summary>
    public static bool SimdAvailable => Vector256.IsHardwareAccelerated && Fma.IsSupported && Avx.IsSupported;

    /// <summary>
    /// Checks that a row-major matrix of <paramref name="rows"/> x <paramref name="cols"/> with leading
    /// dimension <paramref name="ld"/> (elements between row starts) fits in a span of
    /// <paramref name="length"/> elements.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Matrix(int length, int rows, int cols, int ld, string name)
    {
        if (rows < 0 || cols < 0) Throw.Argument(name, $"negative shape {rows} x {cols}");
        if (rows == 0 || cols == 0) return;
        if (ld < cols) Throw.Argument(name, $"leading dimension {ld} is less than the {cols} columns");
        long need = (long)(rows - 1) * ld + cols;
        if (need > length) Throw.Argument(name, $"{rows} x {cols} (ld {ld}) needs {need} elements, span has {length}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Length(int length, long expected, string name)
    {
        if (length != expected) Throw.Argument(name, $"length {length}, expected {expected}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AtLeast(int length, long needed, string name)
    {
        if (length < needed) Throw.Argument(name, $"length {length}, needs at least {needed}");
    }

    public static class Throw
    {
        [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
        public static void Argument(string name, string message) => throw new ArgumentException(message, name);

        [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
        public static void Capacity(string what, long needed, long capacity) =>
            throw new ArgumentException($"{what}: {needed} exceeds the workspace capacity {capacity}", what);
    }
}
