namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>What `cryoflow reconstruct` writes in its run folder, and clearing it for a run that starts over.</summary>
public static class RunFolder
{
    /// <summary>The files a run writes at the top of its folder.</summary>
    public static IReadOnlyList<string> Files { get; } =
        ["map.mrc", "particles.star", "metrics.jsonl", "run.log", "config.json", "rejected.star", Report.RunReport.FileName];

    /// <summary>The folders a run writes: maps along the way, the disk-backed stores, the checkpoints.</summary>
    public static IReadOnlyList<string> Folders { get; } = ["iterations", "state", RunCheckpoint.FolderName];

    /// <summary>Whether the folder holds anything an earlier run wrote.</summary>
    public static bool HasOutputs(string run) =>
        Files.Any(f => File.Exists(Path.Combine(run, f))) || Folders.Append(ReconstructJob.StartsFolder).Any(d => Directory.Exists(Path.Combine(run, d)));

    /// <summary>
    /// Removes what an earlier run wrote (and nothing else: other files in the folder stay), so a run that starts over
    /// does not append to an old log or metrics file or mix its maps with the old ones.
    /// </summary>
    /// <param name="includeStarts">also the random starts of run.starts (RUN/starts), which otherwise stay for the next run
    /// of the same settings to resume (--restart removes them)</param>
    /// <returns>the names removed</returns>
    public static IReadOnlyList<string> Clear(string run, bool includeStarts = false)
    {
        var removed = new List<string>();
        foreach (string f in Files)
        {
            string path = Path.Combine(run, f);
            if (!File.Exists(path)) continue;
            File.Delete(path);
            removed.Add(f);
        }
        foreach (string d in includeStarts ? Folders.Append(ReconstructJob.StartsFolder) : Folders)
        {
            string path = Path.Combine(run, d);
            if (!Directory.Exists(path)) continue;
            Directory.Delete(path, recursive: true);
            removed.Add(d + "/");
        }
        return removed;
    }
}
