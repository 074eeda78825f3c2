using System.Globalization;
using System.Text;

namespace CryoFlow.Pipeline.Report;

/// <summary>
/// The HTML of the run report as it is assembled: one self-contained page (inline CSS, inline SVG, PNG data
/// URIs; no script, nothing fetched), every text escaped.
/// </summary>
internal sealed class ReportPage
{
    private readonly StringBuilder _body = new();
    private readonly List<(string Id, string Title)> _sections = [];

    /// <summary>Problems met while reading the run folder, shown at the top of the page.</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Text for HTML content and attribute values: the five markup characters escaped, the rest as is (UTF-8 page).</summary>
    public static string Esc(string text)
    {
        if (text.AsSpan().IndexOfAny("&<>\"'") < 0) return text;
        var sb = new StringBuilder(text.Length + 16);
        foreach (char ch in text)
            sb.Append(ch switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => ch.ToString(),
            });
        return sb.ToString();
    }

    public static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    public ReportPage Raw(string html)
    {
        _body.Append(html).Append('\n');
        return this;
    }

    public ReportPage Section(string id, string title)
    {
        if (_sections.Count > 0) _body.Append("</section>\n");
        _sections.Add((id, title));
        _body.Append($"<section id=\"{Esc(id)}\"><h2>{Esc(title)}</h2>\n");
        return this;
    }

    public ReportPage Paragraph(string text, string? cssClass = null) =>
        Raw(cssClass is null ? $"<p>{Esc(text)}</p>" : $"<p class=\"{cssClass}\">{Esc(text)}</p>");

    public ReportPage Preformatted(string text) => Raw($"<pre>{Esc(text)}</pre>");

    /// <summary>A two-column table of names and values.</summary>
    public ReportPage Facts(IEnumerable<(string Name, string Value)> rows) => Raw(FactsTable(rows));

    public static string FactsTable(IEnumerable<(string Name, string Value)> rows)
    {
        var sb = new StringBuilder("<table class=\"facts\">");
        foreach (var (name, value) in rows) sb.Append($"<tr><th>{Esc(name)}</th><td>{Esc(value)}</td></tr>");
        return sb.Append("</table>").ToString();
    }

    /// <summary>A table with a header row.</summary>
    public ReportPage Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows, string? id = null)
    {
        var sb = new StringBuilder(id is null ? "<table class=\"rows\">" : $"<table class=\"rows\" id=\"{Esc(id)}\">");
        sb.Append("<tr>");
        foreach (string h in header) sb.Append($"<th>{Esc(h)}</th>");
        sb.Append("</tr>");
        foreach (var row in rows)
        {
            sb.Append("<tr>");
            foreach (string cell in row) sb.Append($"<td>{Esc(cell)}</td>");
            sb.Append("</tr>");
        }
        return Raw(sb.Append("</table>").ToString());
    }

    /// <summary>An img element holding a PNG as a data URI.</summary>
    public static string Image(byte[] png, string alt, string cssClass) =>
        $"<img class=\"{cssClass}\" alt=\"{Esc(alt)}\" src=\"data:image/png;base64,{Convert.ToBase64String(png)}\">";

    public string Build(string title, string header)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        sb.Append($"<title>{Esc(title)}</title><style>{Css}</style></head>\n<body>\n<header>{header}<nav>");
        sb.AppendJoin(" · ", _sections.Select(s => $"<a href=\"#{Esc(s.Id)}\">{Esc(s.Title)}</a>"));
        sb.Append("</nav></header>\n<main>\n").Append(_body);
        if (_sections.Count > 0) sb.Append("</section>\n");
        sb.Append("</main>\n</body></html>\n");
        return sb.ToString();
    }

    private const string Css = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
        header,main{max-width:1240px;margin:0 auto;padding:0 20px}
        header{padding-top:16px}
        h1{font-size:22px;margin:8px 0}
        h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
        nav{margin:8px 0 4px;font-size:13px}
        a{color:#1f5fa8}
        .muted{color:#666}
        table{border-collapse:collapse;margin:6px 0}
        th,td{padding:2px 10px 2px 0;text-align:left;vertical-align:top}
        table.rows th{border-bottom:1px solid #ccc}
        table.rows td{border-bottom:1px solid #eee;font-size:13px}
        pre{background:#f1f1f1;padding:8px;overflow-x:auto;font-size:12px;max-height:420px}
        figure{margin:0;display:inline-block;text-align:center}
        figcaption{font-size:12px;color:#555}
        .views{display:grid;grid-template-columns:repeat(6,minmax(0,1fr));gap:8px;max-width:1200px}
        .views img{width:100%;image-rendering:auto;background:#000}
        .strip{display:grid;grid-template-columns:110px repeat(6,minmax(0,1fr));gap:4px;align-items:center;max-width:660px;margin:8px 0}
        .strip img{width:100%;background:#000}
        .strip .it{font-size:12px;color:#444}
        .charts{display:grid;grid-template-columns:repeat(auto-fill,440px);gap:10px}
        svg.chart{background:#fff;border:1px solid #e3e3e3}
        svg.chart .title{font-size:13px;font-weight:600;fill:#222}
        svg.chart .label,svg.chart .legend{font-size:11px;fill:#444}
        svg.chart .tick{font-size:10px;fill:#555}
        svg.chart .frame{fill:none;stroke:#bbb}
        svg.chart .grid{stroke:#eee}
        svg.chart .mark{stroke:#888;stroke-dasharray:4 3;fill:#666;font-size:10px}
        svg.chart text.mark{stroke:none}
        svg.chart .series{fill:none;stroke-width:1.5}
        svg.chart .bars rect{fill:#4c78a8}
        svg.chart .empty{fill:#999;font-size:12px}
        .pair{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
        img.sky{width:720px;max-width:100%;image-rendering:pixelated;background:#000;border:1px solid #ccc}
        .warn{color:#8a5300}
        """;
}
