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
    private readonly ParticleTable _table;
    private readonly ILogger _log;
    private readonly int _capacity;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _open = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _recent = new();
    private bool _disposed;

    private sealed class Entry(MrcReader reader, LinkedListNode<string> node)
    {
        public MrcReader Reader { get; } = reader;
        public LinkedListNode<string> Node { get; } = node;
        public int Leases { get; set; }
    }

    /// <param name="table">the particles</param>
    /// <param name="maxOpenStacks">stacks kept open at once</param>
    /// <param name="logger">for the stacks' header warnings (once per stack)</param>
    public ParticleImageReader(ParticleTable table, int maxOpenStacks = 64, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxOpenStacks, 1);
        _table = table;
        _capacity = maxOpenStacks;
        _log = logger ?? Log.Logger;
    }

    public ParticleTable Table => _table;

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
        var entry = Lease(index);
        try
        {
            var r = entry.Reader;
            if (destination.Length != r.PixelsPerImage)
                throw new CryoFlowDataException($"image is {r.Width} x {r.Height} px, the run expects {Side(destination.Length)}",
                    _table.ImageLocation(index) with { Found = $"{r.Width} x {r.Height} in {r.FilePath}" });
            r.ReadImage(_table[index].Image.Index, destination);
        }
        catch (MrcFormatException e)
        {
            throw Wrap(index, e);
        }
        finally
        {
            Release(entry);
        }
    }

    private T Use<T>(int index, Func<MrcReader, T> action)
    {
        var entry = Lease(index);
        try
        {
            return action(entry.Reader);
        }
        catch (MrcFormatException e)
        {
            throw Wrap(index, e);
        }
        finally
        {
            Release(entry);
        }
    }

    private CryoFlowDataException Wrap(int index, CryoFlowDataException inner) =>
        new($"image {_table[index].Image.ToImageName()}: {inner.Message}", _table.ImageLocation(index), inner);

    private static string Side(int pixels)
    {
        int s = (int)Math.Round(Math.Sqrt(pixels));
        return s * s == pixels ? $"{s} x {s}" : $"{pixels} pixels";
    }

    private Entry Lease(int index)
    {
        string path = _table.ResolveStackPath(index);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_open.TryGetValue(path, out var hit))
            {
                _recent.Remove(hit.Node);
                _recent.AddFirst(hit.Node);
                hit.Leases++;
                return hit;
            }
        }
        // open outside the lock: a slow file system must not stall readers of other stacks
        MrcReader reader;
        try
        {
            reader = MrcReader.OpenStack(path, _log);
        }
        catch (MrcFormatException e)
        {
            throw Wrap(index, e);
        }
        lock (_lock)
        {
            if (_open.TryGetValue(path, out var raced))
            {
                reader.Dispose();
                raced.Leases++;
                return raced;
            }
            var entry = new Entry(reader, _recent.AddFirst(path)) { Leases = 1 };
            _open[path] = entry;
            EvictIdle();
            return entry;
        }
    }

    private void Release(Entry entry)
    {
        lock (_lock)
        {
            entry.Leases--;
            if (_disposed && entry.Leases == 0) entry.Reader.Dispose();
            else EvictIdle();
        }
    }

    /// <summary>Closes least-recently-used stacks nobody is reading until the cache fits (caller holds the lock).</summary>
    private void EvictIdle()
    {
        var node = _recent.Last;
        while (_open.Count > _capacity && node is not null)
        {
            var previous = node.Previous;
            var e = _open[node.Value];
            if (e.Leases == 0)
            {
                _recent.Remove(node);
                _open.Remove(node.Value);
                e.Reader.Dispose();
            }
            node = previous;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var e in _open.Values)
                if (e.Leases == 0) e.Reader.Dispose();
            _open.Clear();
            _recent.Clear();
        }
    }
}
