using System.Collections.Concurrent;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using Serilog;

namespace CryoFlow.Pipeline.Stages.Extract;

/// <summary>Where particle i is: its micrograph (index into the source's list) and the lower corner of its window.</summary>
public readonly record struct ParticleWindow(int Micrograph, int X0, int Y0);

/// <summary>
/// Particle pixels cut from micrographs when asked for, instead of from a written stack: reading particle i reads
/// its window's rows from the micrograph (<see cref="MrcReader.ReadWindow"/>; micrographs stay open in a small
/// least-recently-used cache) and finishes it with the same <see cref="ParticleExtractor"/> as `cryoflow extract`,
/// so the pixels equal those of the extracted stack. Random access, thread-safe; memory does not depend on the
/// number of micrographs beyond the window list. Bad data (a truncated micrograph, a flat window) is a
/// <see cref="CryoFlowDataException"/>, which the reconstruction's reader turns into a rejected particle.
/// </summary>
public sealed class ExtractedParticleSource : IParticleImageSource, IDisposable
{
    private readonly ParticleExtractor _extractor;
    private readonly IReadOnlyList<string> _micrographs;
    private readonly IReadOnlyList<ParticleWindow> _windows;
    private readonly MrcReaderCache _open;
    private readonly ConcurrentBag<ParticleExtractor.Worker> _workers = [];

    /// <param name="extractor">the extraction settings</param>
    /// <param name="micrographs">micrograph paths</param>
    /// <param name="windows">one per particle</param>
    /// <param name="maxOpenMicrographs">micrograph files kept open</param>
    /// <param name="logger">for micrograph header warnings</param>
    public ExtractedParticleSource(ParticleExtractor extractor, IReadOnlyList<string> micrographs, IReadOnlyList<ParticleWindow> windows, int maxOpenMicrographs = 32, ILogger? logger = null)
    {
        _extractor = extractor;
        _micrographs = micrographs;
        _windows = windows;
        _open = new MrcReaderCache(maxOpenMicrographs, logger);
    }

    public int Count => _windows.Count;

    /// <summary>Edge of the images <see cref="Read"/> gives.</summary>
    public int BoxSize => _extractor.Options.FinalBox;

    /// <param name="destination">FinalBox x FinalBox floats</param>
    public void Read(int index, Span<float> destination)
    {
        int box = _extractor.Options.Box;
        if (destination.Length != BoxSize * BoxSize)
            throw new ArgumentException($"destination holds {destination.Length} floats; a particle is {BoxSize} x {BoxSize}", nameof(destination));
        var window = _windows[index];
        string path = _micrographs[window.Micrograph];
        var worker = _workers.TryTake(out var w) ? w : _extractor.CreateWorker();
        try
        {
            using (var lease = _open.Open(path))
                lease.Reader.ReadWindow(0, window.X0, window.Y0, box, box, worker.Window);
            var status = worker.Finish(destination);
            if (status != ExtractionStatus.Ok)
                throw new CryoFlowDataException(status == ExtractionStatus.FlatBackground ? "the particle's background is flat (no variance)" : "a pixel is NaN or infinite",
                    new DataLocation(FilePath: path, Record: index, Field: $"window at ({window.X0}, {window.Y0})"));
        }
        finally
        {
            _workers.Add(worker);
        }
    }

    public void Dispose() => _open.Dispose();
}
