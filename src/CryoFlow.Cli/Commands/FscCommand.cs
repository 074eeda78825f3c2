using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.Numerics.Evaluation;

namespace CryoFlow.Cli.Commands;

/// <summary>`cryoflow fsc A.mrc B.mrc [--json]`: the FSC curve and the resolution at 0.5 and 0.143.</summary>
public static class FscCommand
{
    public static Command Create(ConsoleIo io)
    {
        var a = new Argument<FileInfo>("a") { Description = "First map." };
        var b = new Argument<FileInfo>("b") { Description = "Second map (same box and voxel size)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var apix = new Option<double?>("--apix") { Description = "Voxel size in Å when the headers do not give it." };
        var command = new Command("fsc", "Fourier shell correlation between two maps, and the resolution at FSC 0.5 and 0.143.") { a, b, json, apix };
        command.SetAction(pr =>
        {
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
            var fsc = FourierShellCorrelation.Compute(ra.ReadVolume(), rb.ReadVolume(), ha.Nx, voxel);
            if (pr.GetValue(json))
            {
                io.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    boxSize = fsc.BoxSize,
                    voxelSize = fsc.VoxelSize,
                    resolution05 = fsc.ResolutionAt(0.5),
                    resolution0143 = fsc.ResolutionAt(0.143),
                    shells = fsc.Shells.Select(s => new { shell = s.Shell, frequency = s.Frequency, fsc = s.Correlation }),
                }));
            }
            else
            {
                io.Out.WriteLine("shell  1/A        A       FSC");
                foreach (var s in fsc.Shells.Skip(1))
                    io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Shell,5}  {s.Frequency:F4}  {1 / s.Frequency,7:F2}  {s.Correlation,7:F4}"));
                io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"resolution at FSC 0.5: {fsc.ResolutionAt(0.5):F2} Å; at FSC 0.143: {fsc.ResolutionAt(0.143):F2} Å"));
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
