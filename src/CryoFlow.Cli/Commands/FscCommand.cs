using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.Numerics.Evaluation;

namespace CryoFlow.Cli.Commands;

/// <summary>
/// `cryoflow fsc A.mrc B.mrc [--align] [--aligned-out B_aligned.mrc] [--json]`: the FSC curve and the resolution at
/// 0.5 and 0.143; with --align, B is first superimposed on A over rotations, shifts and the mirror image
/// (<see cref="MapAlignment"/>) and the FSC is that of A with the aligned B.
/// </summary>
public static class FscCommand
{
    public static Command Create(ConsoleIo io)
    {
        var a = new Argument<FileInfo>("a") { Description = "First map." };
        var b = new Argument<FileInfo>("b") { Description = "Second map (same box and voxel size)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var apix = new Option<double?>("--apix") { Description = "Voxel size in Å when the headers do not give it." };
        var align = new Option<bool>("--align") { Description = "First align B to A: global search over rotations, then local refinement, with shifts and B's mirror image; reports which hand matched." };
        var alignedOut = new Option<FileInfo?>("--aligned-out") { Description = "With --align: write the aligned B here (MRC, mode 2)." };
        var command = new Command("fsc", "Fourier shell correlation between two maps, and the resolution at FSC 0.5 and 0.143.") { a, b, json, apix, align, alignedOut };
        command.SetAction(pr =>
        {
            if (pr.GetValue(alignedOut) is not null && !pr.GetValue(align))
            {
                io.Error.WriteLine("cryoflow fsc: --aligned-out needs --align");
                return ExitCodes.Usage;
            }
            string pa = pr.GetValue(a)!.FullName, pb = pr.GetValue(b)!.FullName;
            using var ra = MrcReader.OpenVolume(pa, Serilog.Core.Logger.None);
            using var rb = MrcReader.OpenVolume(pb, Serilog.Core.Logger.None);
            var (ha, hb) = (ra.Header, rb.Header);
            if (ha.Nx != ha.Ny || ha.Ny != ha.Nz)
                throw new MrcFormatException("the map must be cubic", new DataLocation(FilePath: pa, Field: "NX, NY, NZ", Found: $"{ha.Nx} x {ha.Ny} x {ha.Nz}"));
            if (hb.Nx != ha.Nx || hb.Ny != ha.Ny || hb.Nz != ha.Nz)
                throw new MrcFormatException("the maps have different boxes", new DataLocation(FilePath: pb, Field: "NX, NY, NZ", Expected: $"{ha.Nx} x {ha.Ny} x {ha.Nz}", Found: $"{hb.Nx} x {hb.Ny} x {hb.Nz}"));
            double voxel = pr.GetValue(apix) ?? ha.VoxelSizeX ?? hb.VoxelSizeX
                ?? throw new MrcFormatException("neither header gives a voxel size; give --apix", new DataLocation(FilePath: pa, Field: "CELLA/MX"));
            if (ha.VoxelSizeX is double va && hb.VoxelSizeX is double vb && Math.Abs(va - vb) > 1e-3 * va && pr.GetValue(apix) is null)
                throw new MrcFormatException("the maps have different voxel sizes", new DataLocation(FilePath: pb, Field: "CELLA/MX", Expected: va.ToString("G6", CultureInfo.InvariantCulture), Found: vb.ToString("G6", CultureInfo.InvariantCulture)));
            float[] mapA = ra.ReadVolume(), mapB = rb.ReadVolume();
            MapAlignmentResult? alignment = null;
            if (pr.GetValue(align))
            {
                if (ha.Nx < 8)
                    throw new MrcFormatException("alignment needs a box of at least 8 voxels", new DataLocation(FilePath: pa, Field: "NX", Found: ha.Nx.ToString(CultureInfo.InvariantCulture)));
                if (mapA.Min() == mapA.Max())
                    throw new MrcFormatException("the reference map is constant: there is nothing to align to", new DataLocation(FilePath: pa, Field: "data"));
                alignment = MapAlignment.Align(mapA, mapB, ha.Nx, voxel);
                mapB = alignment.Aligned;
                if (pr.GetValue(alignedOut) is FileInfo output)
                    MrcWriter.WriteVolume(output.FullName, mapB, ha.Nx, ha.Nx, ha.Nx, new MrcWriterOptions { VoxelSize = voxel, Label = "aligned to " + Path.GetFileName(pa) });
            }
            var fsc = FourierShellCorrelation.Compute(mapA, mapB, ha.Nx, voxel);
            if (pr.GetValue(json))
            {
                io.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    boxSize = fsc.BoxSize,
                    voxelSize = fsc.VoxelSize,
                    resolution05 = fsc.ResolutionAt(0.5),
                    resolution0143 = fsc.ResolutionAt(0.143),
                    aligned = alignment is null ? null : AlignmentJson(alignment),
                    shells = fsc.Shells.Select(s => new { shell = s.Shell, frequency = s.Frequency, fsc = s.Correlation }),
                }, new JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull }));
            }
            else
            {
                if (alignment is not null) io.Out.WriteLine(AlignmentText(alignment));
                io.Out.WriteLine("shell  1/A        A       FSC");
                foreach (var s in fsc.Shells.Skip(1))
                    io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Shell,5}  {s.Frequency:F4}  {1 / s.Frequency,7:F2}  {s.Correlation,7:F4}"));
                io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"resolution at FSC 0.5: {fsc.ResolutionAt(0.5):F2} Å; at FSC 0.143: {fsc.ResolutionAt(0.143):F2} Å"));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string HandName(MapHand hand) => hand == MapHand.Mirrored ? "mirrored" : "original";

    private static object AlignmentJson(MapAlignmentResult r)
    {
        var angles = r.Angles;
        return new
        {
            rot = angles.RotDeg,
            tilt = angles.TiltDeg,
            psi = angles.PsiDeg,
            shiftX = r.ShiftAngst.X,
            shiftY = r.ShiftAngst.Y,
            shiftZ = r.ShiftAngst.Z,
            hand = HandName(r.Hand),
            correlation = r.Correlation,
            otherHandCorrelation = double.IsNaN(r.OtherHandCorrelation) ? (double?)null : r.OtherHandCorrelation,
            radius = r.Radius,
        };
    }

    private static string AlignmentText(MapAlignmentResult r)
    {
        var angles = r.Angles;
        var other = r.Hand == MapHand.Mirrored ? MapHand.Original : MapHand.Mirrored;
        return string.Create(CultureInfo.InvariantCulture,
            $"aligned B to A: the {HandName(r.Hand)} hand of B matched (correlation {r.Correlation:F4}; {HandName(other)} hand {r.OtherHandCorrelation:F4}); "
            + $"rot {Tidy(angles.RotDeg):F2}, tilt {Tidy(angles.TiltDeg):F2}, psi {Tidy(angles.PsiDeg):F2} deg; "
            + $"shift ({Tidy(r.ShiftAngst.X):F2}, {Tidy(r.ShiftAngst.Y):F2}, {Tidy(r.ShiftAngst.Z):F2}) Å");
    }

    /// <summary>Round-off below the printed precision shows as 0.00, not -0.00.</summary>
    private static double Tidy(double v) => Math.Abs(v) < 0.005 ? 0 : v;
}
