using CryoFlow.Formats.Errors;
using Serilog;

namespace CryoFlow.Formats.Star;

/// <summary>The <c># version</c> numbers RELION writes.</summary>
public static class StarVersions
{
    /// <summary>RELION 3.1 and 4.0 (optics table, shifts in Å).</summary>
    public const int Relion31 = 30001;

    /// <summary>RELION 5.0.</summary>
    public const int Relion50 = 50001;
}

/// <summary>
/// A STAR file: an optional RELION version (null = no <c># version</c> line, i.e. RELION 3.0 style)
/// and its data blocks in file order. Values are kept as text, so read-write-read is lossless.
/// </summary>
public sealed class StarDocument
{
    private readonly List<StarBlock> _blocks = [];

    public StarDocument(int? version = null) => Version = version;

    /// <summary>The number from <c># version NNNNN</c>, or null when the file has none.</summary>
    public int? Version { get; set; }

    /// <summary>The file this document was read from, for messages and relative paths; null if built in memory.</summary>
    public string? SourcePath { get; internal set; }

    public IReadOnlyList<StarBlock> Blocks => _blocks;

    public StarBlock Add(StarBlock block) => Insert(_blocks.Count, block);

    public StarBlock Insert(int index, StarBlock block)
    {
        block.FilePath ??= SourcePath;
        _blocks.Insert(index, block);
        return block;
    }

    public StarBlock AddBlock(string name, StarTable? loop = null) => Add(new StarBlock(name, loop));

    public bool Remove(StarBlock block) => _blocks.Remove(block);

    /// <summary>The first block with this name (without "data_"), or null.</summary>
    public StarBlock? Find(string name) => _blocks.FirstOrDefault(b => b.Name == name);

    /// <summary>The first block with this name; a missing block is a <see cref="StarFormatException"/>.</summary>
    public StarBlock Get(string name) => Find(name) ?? throw new StarFormatException(
        $"no block data_{name}; the file has " + (_blocks.Count == 0 ? "none" : string.Join(", ", _blocks.Select(b => "data_" + b.Name))),
        new DataLocation(FilePath: SourcePath, Block: name));

    /// <summary>Reads a STAR file (see <see cref="StarReader"/>).</summary>
    public static StarDocument Read(string path, ILogger? logger = null) => StarReader.ReadFile(path, logger);

    /// <summary>Writes atomically (see <see cref="StarWriter"/>).</summary>
    public void Write(string path) => StarWriter.WriteFile(this, path);
}
