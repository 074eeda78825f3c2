using System.Globalization;
using System.Text;
using CryoFlow.Formats.Star;
using L = CryoFlow.Formats.Particles.RelionLabels;

namespace CryoFlow.Formats.Particles;

/// <summary>
/// Writes a <see cref="ParticleTable"/> as a RELION 3.1 particle file: <c># version 30001</c> (or the
/// source's version when it is newer), data_optics, then data_particles with every original column and
/// every particle's row; other blocks of the source document are kept. RELION 3.0 input is converted as
/// RELION's own converter does (3dem/relion src/jaz/single_particle/io/star_converter.cpp): voltage, Cs,
/// amplitude contrast, detector pixel size and magnification move to an optics table with one group per
/// distinct combination, rlnOriginX/Y (pixels) become rlnOriginXAngst/YAngst (Å), and rlnOpticsGroup
/// is added. <see cref="ParticleColumn"/>s set or add per-particle columns (e.g. poses) without
/// changing the table. Large tables are written without copying their cells.
/// </summary>
public static class ParticleStarWriter
{
    private static readonly HashSet<string> MovedToOptics =
        [L.Voltage, L.SphericalAberration, L.AmplitudeContrast, L.DetectorPixelSize, L.Magnification, L.ImagePixelSize];

    /// <summary>Writes atomically (temporary file, then rename).</summary>
    public static void Write(string path, ParticleTable table, params IEnumerable<ParticleColumn> columns) =>
        Write(path, new TableRows(table), columns);

    /// <summary>The document <see cref="Write"/> writes (written to memory and read back).</summary>
    public static StarDocument ToStarDocument(ParticleTable table, params IEnumerable<ParticleColumn> columns)
    {
        using var ms = new MemoryStream();
        Write(ms, new TableRows(table), columns);
        ms.Position = 0;
        return StarReader.Read(ms);
    }

    /// <summary>Writes the rows of <paramref name="rows"/> atomically, streamed: memory does not grow with their number.</summary>
    internal static void Write(string path, ParticleRowSource rows, IEnumerable<ParticleColumn> columns)
    {
        var overrides = Check(rows, columns);
        using var w = StarStreamWriter.Create(path, Version(rows));
        Write(w, rows, overrides);
        w.Complete();
    }

    private static void Write(Stream stream, ParticleRowSource rows, IEnumerable<ParticleColumn> columns)
    {
        var overrides = Check(rows, columns);
        using var w = StarStreamWriter.Create(stream, Version(rows));
        Write(w, rows, overrides);
        w.Complete();
    }

    private static int Version(ParticleRowSource rows) => rows.Document.Version is >= StarVersions.Relion31 ? rows.Document.Version.Value : StarVersions.Relion31;

    private static List<ParticleColumn> Check(ParticleRowSource rows, IEnumerable<ParticleColumn> columns)
    {
        var overrides = columns.ToList();
        foreach (var o in overrides)
            if (o.Count != rows.Count) throw new ArgumentException($"column _{o.Label} has {o.Count} values for {rows.Count} particles", nameof(columns));
        var dup = overrides.GroupBy(o => o.Label).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"column _{dup.Key} given twice", nameof(columns));
        return overrides;
    }

    private static void Write(StarStreamWriter w, ParticleRowSource rows, List<ParticleColumn> overrides)
    {
        foreach (var b in rows.Document.Blocks)
        {
            if (b == rows.OpticsBlock) w.WriteBlock(OpticsFromSource(rows));
            else if (b == rows.ParticleBlock)
            {
                if (rows.OpticsBlock is null) w.WriteBlock(OpticsFromGroups(rows.Groups));
                var plan = Plan(rows, overrides);
                var head = new StarBlock("particles");
                foreach (var pair in b.Pairs) head.SetValue(pair.Label, pair.Value);
                w.BeginLoop(head, plan.Select(c => c.Label).ToArray());
                rows.ForEach((t, r, k, in p) =>
                {
                    foreach (var c in plan) w.WriteCell(c.Value(t, r, k, p));
                    w.EndRow();
                });
                w.EndLoop();
            }
            else w.WriteBlock(b);
        }
    }

    private delegate ReadOnlySpan<byte> CellOf(StarTable source, int row, int k, in Particle p);

    private sealed record PlannedColumn(string Label, CellOf Value);

    /// <summary>
    /// The output columns: every source column in its place (RELION 3.0 values moved to the optics table left out,
    /// pixel origins replaced by Å ones, optics group numbers of built groups), rlnOpticsGroup if missing, then the
    /// overrides in place of a column of the same label or appended.
    /// </summary>
    private static List<PlannedColumn> Plan(ParticleRowSource rows, List<ParticleColumn> overrides)
    {
        var t = rows.ParticleBlock.Loop!;
        bool convert = rows.OpticsBlock is null;
        var cols = new List<PlannedColumn>(t.ColumnCount + overrides.Count + 2);
        for (int col = 0; col < t.ColumnCount; col++)
        {
            string label = t.Label(col);
            if (convert && MovedToOptics.Contains(label)) continue;
            if (label == L.OriginX || label == L.OriginY)
            {
                // pixels to Å, in place of the pixel column (dropped when the file has both)
                string angst = label == L.OriginX ? L.OriginXAngst : L.OriginYAngst;
                bool x = label == L.OriginX;
                if (!t.Contains(angst)) cols.Add(new(angst, (_, _, _, in p) => Utf8(StarNumbers.Format(x ? p.Pose!.Value.OriginXAngst : p.Pose!.Value.OriginYAngst))));
                continue;
            }
            if (convert && label == L.OpticsGroup)
            {
                cols.Add(new(L.OpticsGroup, (_, _, _, in p) => Utf8(Int(p.Optics.Number))));
                continue;
            }
            int c = col;
            cols.Add(new(label, (source, r, _, in _) => source.GetUtf8(r, c)));
        }
        if (!cols.Exists(c => c.Label == L.OpticsGroup)) cols.Add(new(L.OpticsGroup, (_, _, _, in p) => Utf8(Int(p.Optics.Number))));
        foreach (var o in overrides)
        {
            var col = new PlannedColumn(o.Label, (_, _, k, in _) => Utf8(o.ValueOf(k)));
            int at = cols.FindIndex(c => c.Label == o.Label);
            if (at >= 0) cols[at] = col;
            else cols.Add(col);
        }
        return cols;
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static StarBlock OpticsFromSource(ParticleRowSource rows)
    {
        var block = rows.OpticsBlock!.Clone();
        var t = block.Loop!;
        var groups = rows.Groups;
        // Fill in what CryoFlow learned that the file does not say (a box size from the stack, --apix).
        AddIfKnownForAll(L.ImagePixelSize, g => g.PixelSizeAngst is double a ? StarNumbers.Format(a) : null);
        AddIfKnownForAll(L.ImageSize, g => g.ImageSize is int b ? Int(b) : null);
        return block;

        void AddIfKnownForAll(string label, Func<OpticsGroup, string?> value)
        {
            if (t.Contains(label) || groups.Any(g => g.SourceRow is null || value(g) is null)) return;
            int c = t.AddColumn(label);
            foreach (var g in groups) t.SetString(g.SourceRow!.Value, c, value(g)!);
        }
    }

    private static StarBlock OpticsFromGroups(IReadOnlyList<OpticsGroup> groups)
    {
        var columns = new List<(string Label, Func<OpticsGroup, string?> Value)>
        {
            (L.OpticsGroup, g => Int(g.Number)),
            (L.OpticsGroupName, g => g.Name),
            (L.AmplitudeContrast, g => Num(g.AmplitudeContrast)),
            (L.SphericalAberration, g => Num(g.SphericalAberrationMm)),
            (L.Voltage, g => Num(g.VoltageKv)),
            (L.ImagePixelSize, g => Num(g.PixelSizeAngst)),
            (L.MicrographOriginalPixelSize, g => Num(g.PixelSizeAngst)),
            (L.ImageSize, g => g.ImageSize is int b ? Int(b) : null),
            (L.ImageDimensionality, _ => "2"),
        };
        var kept = new List<(string Label, Func<OpticsGroup, string?> Value)>();
        foreach (var col in columns)
        {
            int known = groups.Count(g => col.Value(g) is not null);
            if (known == groups.Count) kept.Add(col);
            else if (known > 0) throw new InvalidOperationException($"_{col.Label} is known for some optics groups and not others");
        }
        var t = new StarTable(kept.Select(k => k.Label));
        foreach (var g in groups) t.AddRow(kept.Select(k => k.Value(g)!).ToArray());
        return new StarBlock("optics", t);
    }

    private static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string? Num(double? v) => v is double d ? StarNumbers.Format(d) : null;
}
