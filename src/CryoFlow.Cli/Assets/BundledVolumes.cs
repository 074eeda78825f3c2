using System.IO.Compression;

namespace CryoFlow.Cli.Assets;

/// <summary>Volumes shipped inside the tool, for `simulate` and `demo` without any input file.</summary>
public static class BundledVolumes
{
    /// <summary>The name that selects the bundled chiral "hand" volume (64^3, 1 Å voxels in its header).</summary>
    public const string Hand = "builtin:hand";

    /// <summary>Writes the bundled hand volume to <paramref name="path"/> (an MRC file) and returns the path.</summary>
    public static string ExtractHand(string path)
    {
        using var resource = typeof(BundledVolumes).Assembly.GetManifestResourceStream("CryoFlow.Cli.Assets.hand-vol.mrc.gz")
            ?? throw new InvalidOperationException("the bundled hand volume is missing from the assembly");
        using var gz = new GZipStream(resource, CompressionMode.Decompress);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var file = File.Create(path);
        gz.CopyTo(file);
        return path;
    }
}
