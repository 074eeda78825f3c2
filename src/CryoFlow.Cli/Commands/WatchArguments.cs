using System.CommandLine;
using CryoFlow.Pipeline.Stages.Extract.Watch;

namespace CryoFlow.Cli.Commands;

/// <summary>The live-mode options, shared by `extract --watch` and `reconstruct --watch`.</summary>
internal sealed class WatchArguments
{
    private readonly Option<bool> _watch;
    private readonly Option<string> _poll = new("--poll") { Description = "Live mode: time between polls (e.g. 30s, 2m).", DefaultValueFactory = _ => "30s" };
    private readonly Option<string?> _until = new("--watch-until") { Description = "Live mode: stop at this time (08:00, 2025-06-01T08:00) or after this long (12h)." };
    private readonly Option<string?> _idle = new("--watch-idle") { Description = "Live mode: stop when no new micrograph has come for this long (e.g. 30m)." };
    private readonly Option<FileInfo?> _stopFile = new("--watch-stop-file") { Description = "Live mode: stop when this file appears." };

    /// <param name="what">what the command does with each new micrograph, for --watch's description</param>
    public WatchArguments(string what) =>
        _watch = new("--watch") { Description = $"Live mode: keep polling for new micrographs and picks during a session; once a micrograph's files are complete and stable, {what}." };

    public IEnumerable<Option> All => [_watch, _poll, _until, _idle, _stopFile];

    /// <summary>The watch, or null without --watch; an <see cref="ArgumentException"/> naming a bad value.</summary>
    public WatchOptions? Read(ParseResult pr)
    {
        if (!pr.GetValue(_watch)) return null;
        var live = new WatchOptions(WatchOptions.ParseDuration(pr.GetValue(_poll)!, "--poll"),
            pr.GetValue(_until) is string u ? WatchOptions.ParseUntil(u, DateTimeOffset.Now) : null,
            pr.GetValue(_idle) is string i ? WatchOptions.ParseDuration(i, "--watch-idle") : null,
            pr.GetValue(_stopFile)?.FullName);
        live.Validate();
        return live;
    }
}
