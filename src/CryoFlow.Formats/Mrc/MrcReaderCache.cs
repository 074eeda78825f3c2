using Serilog;

namespace CryoFlow.Formats.Mrc;

/// <summary>
/// MRC files opened as stacks on first use and kept in a least-recently-used cache of open readers (a dataset may
/// have thousands of stacks or micrographs, more than a process may hold open). A <see cref="Lease"/> keeps its
/// reader open until disposed, even past eviction. Files are opened outside the lock, so a slow file system does
/// not stall readers of other files. Thread-safe.
/// </summary>
public sealed class MrcReaderCache : IDisposable
{
    private readonly ILogger? _log;
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

    /// <param name="capacity">files kept open at once when nobody is reading them</param>
    /// <param name="logger">for header warnings (once per opening)</param>
    public MrcReaderCache(int capacity = 64, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _log = logger;
    }

    /// <summary>Files open now.</summary>
    public int OpenCount
    {
        get { lock (_lock) return _open.Count; }
    }

    /// <summary>An open reader of a file; dispose the lease when done.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly MrcReaderCache _cache;
        private readonly Entry _entry;

        internal Lease(MrcReaderCache cache, object entry)
        {
            _cache = cache;
            _entry = (Entry)entry;
        }

        public MrcReader Reader => _entry.Reader;

        public void Dispose() => _cache.Release(_entry);
    }

    /// <param name="path">full path of an existing file</param>
    /// <exception cref="Errors.MrcFormatException">the header is impossible or the file shorter than it declares</exception>
    public Lease Open(string path)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_open.TryGetValue(path, out var hit))
            {
                _recent.Remove(hit.Node);
                _recent.AddFirst(hit.Node);
                hit.Leases++;
                return new Lease(this, hit);
            }
        }
        var reader = MrcReader.OpenStack(path, _log);
        lock (_lock)
        {
            if (_open.TryGetValue(path, out var raced))
            {
                reader.Dispose();
                raced.Leases++;
                return new Lease(this, raced);
            }
            var entry = new Entry(reader, _recent.AddFirst(path)) { Leases = 1 };
            _open[path] = entry;
            EvictIdle();
            return new Lease(this, entry);
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

    /// <summary>Closes least-recently-used files nobody is reading until the cache fits (caller holds the lock).</summary>
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
