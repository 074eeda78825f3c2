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
        StarWriter.WriteFile(ToStarDocument(table, columns), path);

    /// <summary>
    /// The document <see cref="Write"/> writes. Its particle table borrows the source table's cell arrays
    /// (changing the returned document copies them first; changing the source afterwards shows through).
    /// </summary>
    public static StarDocument ToStarDocument(ParticleTable table, params IEnumerable<ParticleColumn> columns)
    {
        var overrides = columns.ToList();
        foreach (var o in overrides)
            if (o.Count != table.Count) throw new ArgumentException($"column _{o.Label} has {o.Count} values for {table.Count} particles", nameof(columns));
        var dup = overrides.GroupBy(o => o.Label).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"column _{dup.Key} given twice", nameof(columns));

        var src = table.Source;
        var doc = new StarDocument(src.Version is >= StarVersions.Relion31 ? src.Version : StarVersions.Relion31);
        foreach (var b in src.Blocks)
        {
            if (b == table.OpticsBlock) doc.Add(OpticsFromSource(table));
            else if (b == table.ParticleBlock)
            {
                if (table.OpticsBlock is null) doc.Add(OpticsFromGroups(table));
                doc.Add(Particles(table, overrides));
            }
            else doc.Add(b.Clone());
        }
        return doc;
    }

    private static StarBlock Particles(ParticleTable table, List<ParticleColumn> overrides)
    {
        var t = table.ParticleBlock.Loop!;
        var ps = table.Particles;
        int n = ps.Count;
        bool identity = n == t.RowCount;
        for (int i = 0; identity && i < n; i++) identity = ps[i].SourceRow == i;
        bool convert = table.OpticsBlock is null;
        var fresh = new Fresh(n);

        var cols = new List<StarTable.Column>(t.ColumnCount + overrides.Count + 2);
        foreach (var c in t.Columns)
        {
            if (convert && MovedToOptics.Contains(c.Label)) continue;
            if (c.Label == L.OriginX || c.Label == L.OriginY)
            {
                // pixels to Å, in place of the pixel column (dropped when the file has both)
                string angst = c.Label == L.OriginX ? L.OriginXAngst : L.OriginYAngst;
                if (!t.Contains(angst))
                    cols.Add(fresh.Make(angst, i => StarNumbers.Format(c.Label == L.OriginX ? ps[i].Pose!.Value.OriginXAngst : ps[i].Pose!.Value.OriginYAngst)));
                continue;
            }
            if (convert && c.Label == L.OpticsGroup)
            {
                cols.Add(fresh.Make(L.OpticsGroup, i => Int(ps[i].Optics.Number)));
                continue;
            }
            if (identity) cols.Add(c);
            else
            {
                var cells = new ulong[n];
                for (int i = 0; i < n; i++) cells[i] = c.Cells[ps[i].SourceRow];
                cols.Add(new StarTable.Column(c.Label, cells, c.Arena, c.Line));
            }
        }
        if (!cols.Exists(c => c.Label == L.OpticsGroup)) cols.Add(fresh.Make(L.OpticsGroup, i => Int(ps[i].Optics.Number)));
        foreach (var o in overrides)
        {
            var col = fresh.Make(o.Label, o.ValueOf);
            int at = cols.FindIndex(c => c.Label == o.Label);
            if (at >= 0) cols[at] = col;
            else cols.Add(col);
        }

        var block = new StarBlock("particles", new StarTable(cols, n, null));
        foreach (var p in table.ParticleBlock.Pairs) block.SetValue(p.Label, p.Value);
        return block;
    }

    private static StarBlock OpticsFromSource(ParticleTable table)
    {
        var block = table.OpticsBlock!.Clone();
        var t = block.Loop!;
        var groups = table.OpticsGroups;
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

    private static StarBlock OpticsFromGroups(ParticleTable table)
    {
        var groups = table.OpticsGroups;
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

    /// <summary>New columns in a private arena; a value equal to the one above shares its bytes.</summary>
    private sealed class Fresh(int rows)
    {
        private readonly CellArena _arena = new();

        public StarTable.Column Make(string label, Func<int, string> valueOf)
        {
            var cells = new ulong[rows];
            string? previous = null;
            for (int i = 0; i < rows; i++)
            {
                string v = valueOf(i);
                cells[i] = i > 0 && v == previous ? cells[i - 1] : _arena.Append(Encoding.UTF8.GetBytes(v));
                previous = v;
            }
            return new StarTable.Column(label, cells, _arena, null);
        }
    }
}
