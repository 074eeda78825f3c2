using System.Diagnostics;
using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>
/// Live mode (`--watch`): the pool grows while the run goes. Between iterations the watcher is polled (every poll
/// interval); new particles go into the catalog and the pose store at once, and join the minibatch plan at the start of
/// the next epoch once at least a minibatch's worth has arrived, as new minibatches (<see cref="Sampling.MinibatchPlan.Grow"/>):
/// SAGD's history, the importance-sampling store and the prior's training count grow with them. The held-out set stays
/// the one drawn when the run started. The run ends when the watch does (or at a hard cap); it never stops as
/// converged while watching.
/// </summary>
public sealed partial class ReconstructJob
{
    /// <summary>Polls for new micrographs when a poll is due; returns why the watch has ended, or null.</summary>
    private string? PollLive(Stopwatch session)
    {
        var live = _live!;
        if (session.Elapsed - _lastPoll >= live.Watch.PollInterval)
        {
            _lastPoll = session.Elapsed;
            int added = live.Poll();
            if (added > 0)
            {
                _lastArrival = DateTimeOffset.Now;
                _poses!.Grow(_data.Count);
                _log.Information("{New} new particles: {Particles} particles from {Micrographs} micrographs so far ({Training} in the minibatches, {Waiting} micrographs waiting)",
                    added, _data.Count, live.Micrographs, _plan.TrainingCount, live.Waiting);
            }
        }
        return live.Watch.StopReason(DateTimeOffset.Now, _lastArrival);
    }

    /// <summary>Whether the particles that arrived join the plan before <paramref name="iteration"/>: it starts an epoch and a minibatch's worth is waiting.</summary>
    private bool ArrivalsJoinAt(long iteration) =>
        _data.Count - _joined >= _request.Config.Data.MinibatchSize && _plan.StartsEpoch(iteration);

    /// <summary>Adds the particles that arrived since the last growth to the plan, and grows what is sized by it.</summary>
    private void JoinArrivals()
    {
        int count = _data.Count;
        var arrivals = Enumerable.Range(_joined, count - _joined).ToArray();
        int batches = _plan.Grow(arrivals, _done + 1);
        _joined = count;
        (_optimiser as SagdOptimiser)?.Grow(_plan.BatchCount);
        _sampling?.Grow(count, arrivals);
        _prior = _request.Config.Prior.CreatePrior(_box, _plan.TrainingCount, _modelScale);
        _log.Information("Iteration {It}: {New} particles joined as {Batches} new minibatches: {Training} particles in {Total} minibatches",
            _done + 1, arrivals.Length, batches, _plan.TrainingCount, _plan.BatchCount);
    }
}
