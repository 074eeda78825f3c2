using System.Threading.Tasks.Dataflow;
using CryoFlow.Formats.Errors;
using CryoFlow.Numerics.Marginalisation;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>The input: feeder -> read (or the prepared-particle cache) -> prepare -> bounded buffer.</summary>
public sealed partial class ReconstructJob
{
    private sealed record ReadMessage(long Iteration, int Particle)
    {
        public override string ToString() => $"particle {Particle} (iteration {Iteration})";
    }

    /// <summary>Raw pixels, or a particle the cache already held prepared, or why it cannot be read.</summary>
    private sealed record RawMessage(long Iteration, int Particle, float[]? Pixels, string? Rejection, PreparedParticle? Cached = null)
    {
        public override string ToString() => $"particle {Particle} (iteration {Iteration})";
    }

    /// <summary>A prepared particle (or its rejection) on its way through the pipeline.</summary>
    private sealed record PreparedMessage(long Iteration, int Particle, PreparedParticle? Prepared, string? Rejection)
    {
        public override string ToString() => $"particle {Particle} (iteration {Iteration})";
    }

    /// <summary>
    /// Starts reading the minibatches of iterations <paramref name="first"/>..<paramref name="last"/> in order (a resumed
    /// or rolled-back run starts the feeder at its checkpoint's next iteration).
    /// </summary>
    private (BufferBlock<PreparedMessage> Buffer, Task Feeder) StartInput(long first, long last, CancellationToken cancel)
    {
        int ahead = 2 * _request.Config.Data.MinibatchSize;
        var read = new TransformBlock<ReadMessage, RawMessage>(m => Read(m.Iteration, m.Particle),
            new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = _threads, BoundedCapacity = ahead, EnsureOrdered = true, CancellationToken = cancel });
        var prepare = new TransformBlock<RawMessage, PreparedMessage>(m => Prepare(m),
            new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = _threads, BoundedCapacity = ahead, EnsureOrdered = true, CancellationToken = cancel });
        var buffer = new BufferBlock<PreparedMessage>(new DataflowBlockOptions { BoundedCapacity = ahead, CancellationToken = cancel });
        read.LinkTo(prepare, new DataflowLinkOptions { PropagateCompletion = true });
        prepare.LinkTo(buffer, new DataflowLinkOptions { PropagateCompletion = true });
        var feeder = Task.Run(async () =>
        {
            try
            {
                for (long it = first; it <= last; it++)
                    foreach (int p in _plan.Batch(_plan.BatchAt(it)).ToArray())
                        if (!await read.SendAsync(new ReadMessage(it, p), cancel).ConfigureAwait(false)) return;
            }
            finally
            {
                read.Complete();
            }
        }, cancel);
        return (buffer, feeder);
    }

    /// <summary>Stops a feeder started by <see cref="StartInput"/> and waits for it.</summary>
    private static void StopInput(CancellationTokenSource stop, Task feeder)
    {
        stop.Cancel();
        try { feeder.Wait(TimeSpan.FromSeconds(10)); }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException)) { }
    }

    private RawMessage Read(long iteration, int particle)
    {
        if (_cache is not null)
        {
            var cached = _particlePool.TryTake(out var q) ? q : NewParticle();
            if (_cache.TryLoad(particle, _data.CtfOf(particle), cached)) return new RawMessage(iteration, particle, null, null, cached);
            _particlePool.Add(cached);
        }
        var pixels = _pixelPool.TryTake(out var p) ? p : new float[_inputBox * _inputBox];
        var outcome = _reader.Read(particle, pixels);
        return new RawMessage(iteration, particle, pixels, outcome.Rejection);
    }

    private PreparedParticle NewParticle()
    {
        var preparer = _preparers.TryTake(out var p) ? p : new ParticlePreparer(_rotator, _preparation);
        try
        {
            return preparer.CreateParticle();
        }
        finally
        {
            _preparers.Add(preparer);
        }
    }

    private PreparedMessage Prepare(RawMessage m)
    {
        if (m.Cached is not null) return new PreparedMessage(m.Iteration, m.Particle, m.Cached, null);
        try
        {
            if (m.Rejection is not null) return new PreparedMessage(m.Iteration, m.Particle, null, m.Rejection);
            var preparer = _preparers.TryTake(out var p) ? p : new ParticlePreparer(_rotator, _preparation);
            var particle = _particlePool.TryTake(out var q) ? q : preparer.CreateParticle();
            try
            {
                var status = TryPrepareCropped(preparer, m.Pixels!, _data.CtfOf(m.Particle), particle);
                if (status == PreparationStatus.Ok)
                {
                    _cache?.Store(m.Particle, particle);
                    return new PreparedMessage(m.Iteration, m.Particle, particle, null);
                }
                _particlePool.Add(particle);
                return new PreparedMessage(m.Iteration, m.Particle, null, $"{_data.Catalog[m.Particle].Image.ToImageName()}: {Describe(status)}");
            }
            finally
            {
                _preparers.Add(preparer);
            }
        }
        finally
        {
            if (m.Pixels is not null) _pixelPool.Add(m.Pixels);
        }
    }

    private static string Describe(PreparationStatus s) => s switch
    {
        PreparationStatus.NonFinitePixel => "a pixel is NaN or infinite",
        PreparationStatus.TooFewBackgroundPixels => "too few background pixels outside the particle radius to estimate the noise",
        PreparationStatus.ZeroBackgroundNoise => "the background has zero noise (a constant border)",
        _ => s.ToString(),
    };

    private List<PreparedMessage> TakeBatch(BufferBlock<PreparedMessage> buffer, int count, long iteration, CancellationToken cancel)
    {
        var items = new List<PreparedMessage>(count);
        while (items.Count < count)
        {
            var m = buffer.ReceiveAsync(cancel).GetAwaiter().GetResult();
            if (m.Iteration != iteration)
                throw new InvalidOperationException($"input out of step: expected iteration {iteration}, got {m}");
            if (m.Rejection is not null) Reject(m.Particle, m.Rejection);
            items.Add(m);
        }
        return items;
    }

    private void Reject(int particle, string reason)
    {
        if (_rejected.Add(particle, reason)) _log.Warning("Rejected {Reason}", reason);
    }

    private void Release(List<PreparedMessage> items)
    {
        foreach (var m in items)
            if (m.Prepared is not null) _particlePool.Add(m.Prepared);
    }

    /// <summary>
    /// Reads and prepares particles outside the streaming pipeline (the held-out set, a few hundred), in parallel; not
    /// cancelled halfway, so a stop before the first iteration still writes a checkpoint and every output.
    /// </summary>
    private List<PreparedMessage> PrepareAll(IReadOnlyList<int> particles)
    {
        var result = new PreparedMessage[particles.Count];
        Parallel.For(0, particles.Count, new ParallelOptions { MaxDegreeOfParallelism = _threads },
            i => result[i] = Prepare(Read(0, particles[i])));
        foreach (var m in result)
            if (m.Rejection is not null) Reject(m.Particle, m.Rejection);
        return [.. result];
    }

    /// <summary>--on-bad-particle fail: every particle read and prepared before anything is written.</summary>
    private void CheckEveryParticle(CancellationToken cancel)
    {
        var preparer = new ParticlePreparer(_rotator, _preparation);
        var particle = preparer.CreateParticle();
        var pixels = new float[_inputBox * _inputBox];
        for (int i = 0; i < _data.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            var outcome = _reader.Read(i, pixels);
            if (outcome.Rejection is not null)
                throw new CryoFlowDataException(outcome.Rejection, _data.Catalog.ImageLocation(i));
            var status = TryPrepareCropped(preparer, pixels, _data.CtfOf(i), particle);
            if (status != PreparationStatus.Ok)
                throw new CryoFlowDataException(Describe(status), _data.Catalog.ImageLocation(i));
        }
    }

    /// <summary>Prepares an image of the input box: Fourier-cropped to the working box first when they differ.</summary>
    private PreparationStatus TryPrepareCropped(ParticlePreparer preparer, float[] pixels, in Numerics.Ctf.CtfParameters ctf, PreparedParticle particle)
    {
        if (_crop is null) return preparer.TryPrepare(pixels, _apix, ctf, particle);
        foreach (float v in pixels)
            if (!float.IsFinite(v)) return PreparationStatus.NonFinitePixel; // before the transform spreads it
        var scratch = _cropScratch.TryTake(out var s) ? s : (Workspace: _crop.CreateWorkspace(), Image: new float[_box * _box]);
        try
        {
            _crop.Resample(pixels, scratch.Image, scratch.Workspace);
            return preparer.TryPrepare(scratch.Image, _apix, ctf, particle);
        }
        finally
        {
            _cropScratch.Add(scratch);
        }
    }
}
