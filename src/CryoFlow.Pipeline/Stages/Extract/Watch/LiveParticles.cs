using CryoFlow.Formats.Coordinates;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Particles;
using Serilog;

namespace CryoFlow.Pipeline.Stages.Extract.Watch;

/// <summary>
/// The growing particle pool of a live reconstruction (`cryoflow reconstruct --micrographs ... --watch`): each
/// <see cref="Poll"/> takes the micrographs a <see cref="MicrographWatcher"/> finds complete and stable, and appends
/// their particles to a disk-backed <see cref="ParticleCatalog"/> (with micrograph and coordinate, written back as
/// `cryoflow extract` writes them); their pixels are cut from the micrograph when read, as for
/// `reconstruct --micrographs` without watching. Memory per particle: its window (12 bytes); no pixels are kept.
/// Reads are thread-safe and may run while a poll appends.
/// </summary>
public sealed class LiveParticles : IParticleImageSource, IDisposable
{
    private readonly ExtractionSources _sources;
    private readonly ILogger _log;
    private readonly MicrographWatcher _watcher;
    private readonly GrowingList<string> _micrographs = new();
    private readonly GrowingList<ParticleWindow> _windows = new();
    private readonly ExtractedParticleSource _images;
    private long _dropped;

    public LiveParticles(ExtractionSources sources, ExtractOptions options, WatchOptions watch, ILogger log)
    {
        watch.Validate();
        _sources = sources;
        Options = options;
        Watch = watch;
        _log = log;
        _watcher = new MicrographWatcher(sources, options, log);
        Catalog = ParticleCatalog.Create([], hasCtf: sources.Ctf.Count > 0, hasPoses: false, hasRandomSubset: false, hasOrigin: true,
            null, new StackPathResolver(null));
        _images = new ExtractedParticleSource(new ParticleExtractor(options), _micrographs, _windows, logger: log);
    }

    public ExtractOptions Options { get; }

    public WatchOptions Watch { get; }

    /// <summary>The particles so far (on disk).</summary>
    public ParticleCatalog Catalog { get; }

    public int Count => Catalog.Count;

    /// <summary>Micrographs whose particles are in the pool.</summary>
    public int Micrographs => _micrographs.Count;

    /// <summary>Micrographs seen at the last poll that were not ready yet (still being written, or without picks or CTF).</summary>
    public int Waiting => _watcher.Waiting;

    /// <summary>Picks left out because their box crossed a micrograph's edge.</summary>
    public long DroppedAtEdge => Interlocked.Read(ref _dropped);

    /// <summary>Adds the particles of the micrographs that have become ready; returns how many were added.</summary>
    public int Poll()
    {
        var ready = _watcher.Poll();
        if (ready.Count == 0) return 0;
        var plan = new ExtractionPlan(Options, ready, new MatchReport([], [], []), [], [], _sources.Ctf.Count > 0);
        int before = Count;
        foreach (var m in ready)
        {
            PlannedMicrograph p;
            try
            {
                p = plan.Locate(m);
            }
            catch (CryoFlowDataException e)
            {
                _log.Warning("Skipped micrograph {Micrograph}: {Reason}", m.Path, e.Message);
                continue;
            }
            Interlocked.Add(ref _dropped, p.DroppedAtEdge);
            if (p.Particles.Count == 0) continue;
            var optics = p.Optics(Options);
            if (Catalog.OpticsGroups.FirstOrDefault()?.PixelSizeAngst is double first && optics.PixelSizeAngst != first)
            {
                _log.Warning("Skipped micrograph {Micrograph}: its particles would be {PixelSize} Å/px, the run's are {First} Å/px", m.Path, optics.PixelSizeAngst, first);
                continue;
            }
            var group = Catalog.GetOrAddOpticsGroup(optics);
            string stack = ExtractJob.StackName(p.Input);
            int micrograph = _micrographs.Add(p.Input.Path);
            for (int i = 0; i < p.Particles.Count; i++)
            {
                var w = p.Particles[i];
                // the window first: a reader sees a particle once the catalog counts it
                _windows.Add(new ParticleWindow(micrograph, w.X0, w.Y0));
                Catalog.Append(new Particle(new ParticleRef(stack, i), group, group.PixelSizeAngst, p.Input.Ctf?.Ctf, null, null, Count), p.Origin(i));
            }
        }
        Catalog.Flush();
        return Count - before;
    }

    public void Read(int index, Span<float> destination) => _images.Read(index, destination);

    public void Dispose()
    {
        _images.Dispose();
        Catalog.Dispose();
    }

    /// <summary>A list that one thread appends to while others read what was there (a lock around both).</summary>
    private sealed class GrowingList<T> : IReadOnlyList<T>
    {
        private readonly List<T> _items = [];
        private readonly Lock _lock = new();

        public T this[int index]
        {
            get { lock (_lock) return _items[index]; }
        }

        public int Count
        {
            get { lock (_lock) return _items.Count; }
        }

        /// <returns>the item's index</returns>
        public int Add(T item)
        {
            lock (_lock)
            {
                _items.Add(item);
                return _items.Count - 1;
            }
        }

        public IEnumerator<T> GetEnumerator()
        {
            lock (_lock) return _items.ToList().GetEnumerator();
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
