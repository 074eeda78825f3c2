using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CryoFlow.Formats.CryoSparc;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;

namespace CryoFlow.Cli.Commands;

/// <summary>`cryoflow inspect FILE [--json]`: what a map, stack or particle file holds.</summary>
public static class InspectCommand
{
    public static Command Create(ConsoleIo io)
    {
        var file = new Argument<FileInfo>("file") { Description = "A .mrc, .mrcs, .map, .star or .cs file." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var stack = new Option<bool>("--stack") { Description = "Treat an MRC file as an image stack whatever its header says." };
        var headerStats = new Option<bool>("--header-stats") { Description = "Take min/max/mean from the MRC header instead of reading every pixel." };
        var datadir = new Option<DirectoryInfo?>("--datadir") { Description = "Extra folder where stacks named in a particle file are looked for." };
        var check = new Option<bool>("--check") { Description = "For a particle file: check that every image it names exists (stack found, index inside it)." };
        var command = new Command("inspect", "Describe an MRC map or stack, a STAR file or a cryoSPARC .cs file.") { file, json, stack, headerStats, datadir, check };
        command.SetAction(pr =>
        {
            string path = pr.GetValue(file)!.FullName;
            if (!File.Exists(path))
                throw new Formats.Errors.DataFileNotFoundException(path, [path], new Formats.Errors.DataLocation(FilePath: path));
            string ext = Path.GetExtension(path).ToLowerInvariant();
            var report = ext switch
            {
                ".star" or ".cs" => InspectParticles(path, pr.GetValue(datadir)?.FullName, pr.GetValue(check)),
                _ => InspectMrc(path, pr.GetValue(stack), pr.GetValue(headerStats)),
            };
            io.Out.WriteLine(pr.GetValue(json) ? report.ToJson() : report.ToText());
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>An MRC file is a stack when named .mrcs, when asked, or when its header says so (ISPG 0, NZ > 1).</summary>
    internal static InspectReport InspectMrc(string path, bool forceStack, bool headerStats)
    {
        var header = MrcReader.ReadHeader(path, Serilog.Core.Logger.None);
        bool isStack = forceStack || path.EndsWith(".mrcs", StringComparison.OrdinalIgnoreCase) || (header.Ispg == 0 && header.Nz > 1);
        using var reader = MrcReader.Open(path, isStack ? MrcLayout.Stack : MrcLayout.Volume, Serilog.Core.Logger.None);
        double min, max, mean;
        if (headerStats)
        {
            (min, max, mean) = (header.DMin, header.DMax, header.DMean);
        }
        else
        {
            (min, max, mean) = PixelStatistics(reader);
        }
        var r = new InspectReport();
        r.Add("file", path);
        r.Add("kind", isStack ? "stack" : "volume");
        r.Add("nx", header.Nx);
        r.Add("ny", header.Ny);
        r.Add("nz", header.Nz);
        r.Add("mode", (int)header.Mode);
        r.Add("voxelSize", header.VoxelSizeX is null || header.VoxelSizeY is null || header.VoxelSizeZ is null
            ? null : new double[] { header.VoxelSizeX.Value, header.VoxelSizeY.Value, header.VoxelSizeZ.Value });
        r.Add("count", isStack ? header.Nz : 1);
        r.Add("extendedHeaderType", header.ExtTypeText);
        r.Add("extendedHeaderBytes", header.Nsymbt);
        r.Add("min", min);
        r.Add("max", max);
        r.Add("mean", mean);
        r.Add("warnings", reader.Warnings.Select(w => w.Problem).ToArray());
        return r;
    }

    private static (double Min, double Max, double Mean) PixelStatistics(MrcReader reader)
    {
        var buffer = new float[reader.PixelsPerImage];
        double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0;
        long n = 0;
        long sections = reader.Header.Nz;
        var whole = reader.Layout == MrcLayout.Volume ? reader.ReadVolume() : null;
        for (long s = 0; s < sections; s++)
        {
            ReadOnlySpan<float> px;
            if (whole is not null) px = whole.AsSpan((int)(s * buffer.Length), buffer.Length);
            else { reader.ReadImage(s, buffer); px = buffer; }
            min = Math.Min(min, System.Numerics.Tensors.TensorPrimitives.Min(px));
            max = Math.Max(max, System.Numerics.Tensors.TensorPrimitives.Max(px));
            foreach (float v in px) sum += v;
            n += px.Length;
        }
        return (min, max, sum / n);
    }

    /// <summary>
    /// A particle file: counts, optics, pixel size (null when it varies or is unknown), box size (the
    /// optics table's, else the first stack's header; null when neither says) and the columns.
    /// </summary>
    internal static InspectReport InspectParticles(string path, string? datadir, bool check = false)
    {
        var table = ParticleTable.Read(path, new ParticleReadOptions { DataDir = datadir, Logger = Serilog.Core.Logger.None });
        bool isCs = CryoSparcReader.LooksLikeCryoSparc(path);
        var sizes = table.Particles.Select(p => p.PixelSizeAngst).Distinct().ToList();
        double? pixel = sizes.Count == 1 ? sizes[0] : null;
        var boxes = table.OpticsGroups.Select(g => g.ImageSize).Distinct().ToList();
        int? box = boxes.Count == 1 ? boxes[0] : null;
        if (box is null && boxes.All(b => b is null) && table.Count > 0 && table.Stacks.TryResolve(table[0].Image.StackPath, out string stack))
            box = MrcReader.ReadHeader(stack, Serilog.Core.Logger.None).Nx;
        var columns = isCs
            ? CryoSparcReader.ReadHeader(path).Fields.Select(f => f.Name).ToArray()
            : table.ParticleBlock.RequireLoop().Labels.ToArray();
        var r = new InspectReport();
        r.Add("file", path);
        r.Add("format", isCs ? "cryoSPARC .cs" : "STAR" + (table.Source.Version is int v ? $" (version {v})" : " (RELION 3.0, no version line)"));
        r.Add("particles", table.Count);
        r.Add("opticsGroups", table.OpticsGroups.Count);
        r.Add("pixelSize", pixel);
        r.Add("boxSize", box);
        r.Add("stacks", table.DistinctStackPaths.Count);
        r.Add("hasCtf", table.HasCtf);
        r.Add("hasPoses", table.HasPoses);
        r.Add("columns", columns);
        if (check)
        {
            // every image: stack found and index inside it (headers only); the first bad one is the error
            using var images = new ParticleImageReader(table, logger: Serilog.Core.Logger.None);
            for (int i = 0; i < table.Count; i++) images.Check(i);
            r.Add("checkedImages", table.Count);
        }
        return r;
    }
}

/// <summary>An ordered set of named facts, printed as text or as one JSON object.</summary>
internal sealed class InspectReport
{
    private readonly List<(string Key, object? Value)> _items = [];

    public void Add(string key, object? value) => _items.Add((key, value));

    public object? this[string key] => _items.First(i => i.Key == key).Value;

    public string ToJson()
    {
        var dict = new Dictionary<string, object?>();
        foreach (var (k, v) in _items) dict[k] = v;
        return JsonSerializer.Serialize(dict, new JsonSerializerOptions { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public string ToText()
    {
        var sb = new StringBuilder();
        foreach (var (k, v) in _items)
        {
            string text = v switch
            {
                null => "unknown",
                double d => d.ToString("G6", CultureInfo.InvariantCulture),
                double[] a => string.Join(" x ", a.Select(x => x.ToString("G6", CultureInfo.InvariantCulture))),
                string[] s => s.Length == 0 ? "none" : string.Join("; ", s),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => v.ToString() ?? "",
            };
            sb.Append(CultureInfo.InvariantCulture, $"{k,-20} {text}\n");
        }
        return sb.ToString().TrimEnd('\n');
    }
}
