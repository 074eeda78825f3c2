using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CryoFlow.Formats.Mrc;
using CryoFlow.Numerics.Evaluation;
using CryoFlow.Pipeline.Evaluation;

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
            string pa = pr.GetValue(a)!.FullName;
            var comparison = MapComparison.Compare(pa, pr.GetValue(b)!.FullName, pr.GetValue(align), pr.GetValue(apix));
            var (fsc, alignment) = (comparison.Fsc, comparison.Alignment);
            if (alignment is not null && pr.GetValue(alignedOut) is FileInfo output)
            {
                int d = comparison.BoxSize;
                MrcWriter.WriteVolume(output.FullName, comparison.Map, d, d, d, new MrcWriterOptions { VoxelSize = comparison.VoxelSize, Label = "aligned to " + Path.GetFileName(pa) });
            }
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
                if (alignment is not null) io.Out.WriteLine(MapComparison.DescribeAlignment(alignment));
                io.Out.WriteLine("shell  1/A        A       FSC");
                foreach (var s in fsc.Shells.Skip(1))
                    io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Shell,5}  {s.Frequency:F4}  {1 / s.Frequency,7:F2}  {s.Correlation,7:F4}"));
                io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"resolution at FSC 0.5: {fsc.ResolutionAt(0.5):F2} Å; at FSC 0.143: {fsc.ResolutionAt(0.143):F2} Å"));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

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
            hand = MapComparison.HandName(r.Hand),
            correlation = r.Correlation,
            otherHandCorrelation = double.IsNaN(r.OtherHandCorrelation) ? (double?)null : r.OtherHandCorrelation,
            radius = r.Radius,
            whitened = r.Whitened,
            information = r.Information,
        };
    }
}
