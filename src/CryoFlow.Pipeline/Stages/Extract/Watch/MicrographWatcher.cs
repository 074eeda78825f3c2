using CryoFlow.Formats.Coordinates;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Micrographs;
using CryoFlow.Formats.Mrc;
using Serilog;

namespace CryoFlow.Pipeline.Stages.Extract.Watch;

/// <summary>
/// Finds micrographs that have become ready during a collection session (live mode). Each <see cref="Poll"/> looks
/// at the micrograph, coordinate and CTF files the patterns match now, and hands out, once each, the micrographs
/// that are ready:
/// <list type="bullet">
/// <item>the micrograph file is stable (size and modification time unchanged since the previous poll,
/// <see cref="FileStability"/>) and complete (its MRC header is sane and the file holds all the data it declares);</item>
/// <item>a stable coordinate file that reads without error names it;</item>
/// <item>when CTF files were given, a stable CTF file that reads without error has its estimate.</item>
/// </list>
/// A file that is stable but cannot be read (half written with a pause longer than the poll interval, or broken)
/// is retried at later polls and logged once. A micrograph handed out is never handed out again, even if picks for
/// it arrive later. Memory holds paths and the picks of multi-micrograph coordinate files, never pixels.
/// Not thread-safe: one poller.
/// </summary>
public sealed class MicrographWatcher
{
    private readonly ExtractionSources _sources;
    private readonly ExtractOptions _options;
    private readonly ILogger _log;
    private readonly FileStability _stability = new();
    private readonly HashSet<string> _accepted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (FileStability.Stamp Stamp, IReadOnlyList<CoordinateSource> Sets)> _coordinates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (FileStability.Stamp Stamp, IReadOnlyList<MicrographCtf> Estimates)> _ctf = new(StringComparer.Ordinal);
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);

    /// <exception cref="ArgumentException">a micrograph STAR list (live mode takes micrograph files, folders or patterns)</exception>
    public MicrographWatcher(ExtractionSources sources, ExtractOptions options, ILogger log)
    {
        options.Validate();
        if (sources.Micrographs.Any(m => m.EndsWith(".star", StringComparison.OrdinalIgnoreCase)))
            throw new ArgumentException("in live mode give micrographs as files, folders or patterns, not a STAR list");
        _sources = sources;
        _options = options;
        _log = log;
    }

    /// <summary>Micrographs handed out so far.</summary>
    public int Accepted => _accepted.Count;

    /// <summary>Micrographs seen at the last poll that were not ready (still being written, or without picks or CTF yet).</summary>
    public int Waiting { get; private set; }

    /// <summary>The micrographs that have become ready since the last poll, in name order.</summary>
    /// <exception cref="CryoFlowDataException">two micrographs with the same name</exception>
    public IReadOnlyList<MicrographInput> Poll()
    {
        var candidates = new List<string>();
        int seen = 0;
        foreach (string path in InputFiles.Find(_sources.Micrographs, "micrographs", [".mrc"]))
        {
            if (_accepted.Contains(path)) continue;
            seen++;
            if (_stability.Observe(path) && Complete(path)) candidates.Add(path);
        }
        var sets = Refresh(_sources.Coordinates, CoordinateReader.Extensions, _coordinates, f => CoordinateReader.Catalog([f], _options.CoordinateOptions));
        var estimates = _sources.Ctf.Count > 0 ? Refresh(_sources.Ctf, [".star", ".txt"], _ctf, f => MicrographCtfReader.Read(f)) : null;

        var ready = new List<MicrographInput>();
        if (candidates.Count > 0)
        {
            var index = new MicrographIndex(candidates);
            var picks = new Dictionary<string, CoordinateSource>(StringComparer.Ordinal);
            foreach (var s in sets)
                if (index.Find(s.MicrographKey, s.KeyIsFileName) is string mic && !picks.TryAdd(mic, s))
                    WarnOnce("two:" + mic, "Two coordinate sets name micrograph {Micrograph} ({A}, {B}); the first is used", mic, picks[mic].SourcePath, s.SourcePath);
            CtfAssignment? ctf = null;
            if (estimates is not null)
            {
                try
                {
                    ctf = MicrographCtfMatcher.Assign(index, estimates);
                }
                catch (CryoFlowDataException e)
                {
                    WarnOnce("ctf:" + e.Message, "CTF estimates cannot be paired yet: {Problem}", e.Message);
                    ctf = new CtfAssignment(new Dictionary<string, MicrographCtf>(), []);
                }
            }
            foreach (string mic in index.Paths)
            {
                if (!picks.TryGetValue(mic, out var source)) continue;
                MicrographCtf? c = null;
                if (ctf is not null && !ctf.ByMicrograph.TryGetValue(mic, out c)) continue;
                ready.Add(new MicrographInput(mic, source, c));
                _accepted.Add(mic);
                _stability.Forget(mic);
            }
        }
        Waiting = seen - ready.Count;
        return ready;
    }

    /// <summary>Whether an MRC file holds everything its header declares (a copy still in progress does not).</summary>
    private bool Complete(string path)
    {
        try
        {
            MrcReader.ReadHeader(path);
            return true;
        }
        catch (Exception e) when (e is CryoFlowDataException or IOException)
        {
            WarnOnce(path + FileStability.StampOf(path), "Micrograph {Path} is stable but not readable yet: {Problem}", path, e.Message);
            return false;
        }
    }

    /// <summary>The entries of every stable, readable file the patterns match, re-read when a file changes.</summary>
    private List<T> Refresh<T>(IReadOnlyList<string> patterns, IReadOnlyCollection<string> extensions,
        Dictionary<string, (FileStability.Stamp Stamp, IReadOnlyList<T> Items)> cache, Func<string, IReadOnlyList<T>> read)
    {
        foreach (string file in InputFiles.Find(patterns, "files", extensions))
        {
            if (!_stability.Observe(file, out var stamp)) continue;
            if (cache.TryGetValue(file, out var known) && known.Stamp == stamp) continue;
            try
            {
                cache[file] = (stamp, read(file));
            }
            catch (Exception e) when (e is CryoFlowDataException or IOException)
            {
                WarnOnce(file + stamp, "{File} is stable but not readable yet: {Problem}", file, e.Message);
            }
        }
        return [.. cache.OrderBy(c => c.Key, StringComparer.Ordinal).SelectMany(c => c.Value.Items)];
    }

    private void WarnOnce(string key, string template, params object?[] values)
    {
        if (_warned.Add(key)) _log.Warning(template, values);
    }
}
