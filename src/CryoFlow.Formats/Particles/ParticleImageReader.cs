using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using Serilog;

namespace CryoFlow.Formats.Particles;

/// <summary>
/// Reads particle images by particle index, touching only that image's bytes. Stacks are opened on
/// first use and kept in a small least-recently-used cache (a dataset may have thousands of stacks,
/// more than a process may hold open). Safe for concurrent use. Every failure is a
/// <see cref="CryoFlowDataException"/> that names the metadata file, the particle's row and
/// rlnImageName, and carries the stack's own error as the inner exception.
/// </summary>
public sealed class ParticleImageReader : IParticleImageSource, IDisposable
{
    private readonly IParticleLookup _table;
    private readonly MrcReaderCache _stacks;

    /// <param name="table">the particles</param>
    /// <param name="maxOpenStacks">stacks kept open at once</param>
    /// <param name="logger">for the stacks' header warnings (once per stack)</param>
    public ParticleImageReader(IParticleLookup table, int maxOpenStacks = 64, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxOpenStacks, 1);
        _table = table;
        _stacks = new MrcReaderCache(maxOpenStacks, logger ?? Log.Logger);
    }

    public IParticleLookup Particles => _table;

    /// <summary>Width and height of particle <paramref name="index"/>'s image, from its stack's header.</summary>
    public (int Width, int Height) ImageSize(int index) => Use(index, r => (r.Width, r.Height));

    /// <summary>Checks that particle <paramref name="index"/>'s stack exists, is readable and holds its image.</summary>
    public void Check(int index) => Use(index, r =>
    {
        long i = _table[index].Image.Index;
        if (i >= r.ImageCount)
            throw new MrcFormatException("image index past the end of the stack", new DataLocation(FilePath: r.FilePath, Record: i, Field: "NZ",
                Expected: $"index < {r.ImageCount}", Found: i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return 0;
    });

    /// <summary>Reads particle <paramref name="index"/>'s pixels.</summary>
    /// <param name="destination">width * height floats, [y][x]</param>
    public void Read(int index, Span<float> destination)
    {
        using var lease = Lease(index);
        try
        {
            var r = lease.Reader;
            if (destination.Length != r.PixelsPerImage)
                throw new CryoFlowDataException($"image is {r.Width} x {r.Height} px, the run expects {Side(destination.Length)}",
                    _table.ImageLocation(index) with { Found = $"{r.Width} x {r.Height} in {r.FilePath}" });
            r.ReadImage(_table[index].Image.Index, destination);
        }
        catch (MrcFormatException e)
        {
            throw Wrap(index, e);
        }
    }

    private T Use<T>(int index, Func<MrcReader, T> action)
    {
        using var lease = Lease(index);
        try
        {
            return action(lease.Reader);
        }
        catch (MrcFormatException e)
        {
            throw Wrap(index, e);
        }
    }

    private CryoFlowDataException Wrap(int index, CryoFlowDataException inner) =>
        new($"image {_table[index].Image.ToImageName()}: {inner.Message}", _table.ImageLocation(index), inner);

    private static string Side(int pixels)
    {
        int s = (int)Math.Round(Math.Sqrt(pixels));
        return s * s == pixels ? $"{s} x {s}" : $"{pixels} pixels";
    }

    private MrcReaderCache.Lease Lease(int index)
    {
        string path = _table.ResolveStackPath(index);
        try
        {
            return _stacks.Open(path);
        }
        catch (MrcFormatException e)
        {
            throw Wrap(index, e);
        }
    }

    public void Dispose() => _stacks.Dispose();
}
