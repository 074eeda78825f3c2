using System.Runtime.InteropServices;

namespace CryoFlow.Numerics.Fourier;

/// <summary>
/// Function pointers into single-precision FFTW 3 (libfftw3f), resolved at run time with
/// <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/> so that CryoFlow runs without it.
/// FFTW's planner is not thread-safe: every plan creation goes through <see cref="PlannerLock"/>.
/// The new-array execute functions are thread-safe. Plans are cached by the backend and live as long as the process.
/// </summary>
internal static unsafe class FftwNative
{
    public const uint Measure = 0;
    public const uint Estimate = 1u << 6;

    /// <summary>Serialises FFTW planner calls across the process.</summary>
    public static readonly Lock PlannerLock = new();

    private static readonly string[] Candidates = ["libfftw3f.so.3", "libfftw3f.so", "libfftw3f.3.dylib", "libfftw3f-3.dll", "fftw3f"];

    public static readonly bool IsAvailable;
    public static readonly string? LoadedFrom;

    public static readonly delegate* unmanaged<int, int, float*, float*, uint, nint> PlanR2C2D;
    public static readonly delegate* unmanaged<int, int, int, float*, float*, uint, nint> PlanR2C3D;
    public static readonly delegate* unmanaged<int, int, float*, float*, uint, nint> PlanC2R2D;
    public static readonly delegate* unmanaged<int, int, int, float*, float*, uint, nint> PlanC2R3D;
    public static readonly delegate* unmanaged<nint, float*, float*, void> ExecuteR2C;
    public static readonly delegate* unmanaged<nint, float*, float*, void> ExecuteC2R;
    public static readonly delegate* unmanaged<float*, int> AlignmentOf;

    static FftwNative()
    {
        foreach (string name in Candidates)
        {
            if (!NativeLibrary.TryLoad(name, out nint lib)) continue;
            if (NativeLibrary.TryGetExport(lib, "fftwf_plan_dft_r2c_2d", out nint r2c2) &&
                NativeLibrary.TryGetExport(lib, "fftwf_plan_dft_r2c_3d", out nint r2c3) &&
                NativeLibrary.TryGetExport(lib, "fftwf_plan_dft_c2r_2d", out nint c2r2) &&
                NativeLibrary.TryGetExport(lib, "fftwf_plan_dft_c2r_3d", out nint c2r3) &&
                NativeLibrary.TryGetExport(lib, "fftwf_execute_dft_r2c", out nint exR2C) &&
                NativeLibrary.TryGetExport(lib, "fftwf_execute_dft_c2r", out nint exC2R) &&
                NativeLibrary.TryGetExport(lib, "fftwf_alignment_of", out nint align))
            {
                PlanR2C2D = (delegate* unmanaged<int, int, float*, float*, uint, nint>)r2c2;
                PlanR2C3D = (delegate* unmanaged<int, int, int, float*, float*, uint, nint>)r2c3;
                PlanC2R2D = (delegate* unmanaged<int, int, float*, float*, uint, nint>)c2r2;
                PlanC2R3D = (delegate* unmanaged<int, int, int, float*, float*, uint, nint>)c2r3;
                ExecuteR2C = (delegate* unmanaged<nint, float*, float*, void>)exR2C;
                ExecuteC2R = (delegate* unmanaged<nint, float*, float*, void>)exC2R;
                AlignmentOf = (delegate* unmanaged<float*, int>)align;
                IsAvailable = true;
                LoadedFrom = name;
                return;
            }
            NativeLibrary.Free(lib);
        }
    }
}
