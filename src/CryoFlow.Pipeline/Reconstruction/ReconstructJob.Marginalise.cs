using System.Threading.Tasks.Dataflow;
using CryoFlow.Numerics.Marginalisation;
using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>Marginalisation: one particle per message on per-worker blocks, reduced in worker order.</summary>
public sealed partial class ReconstructJob
{
    /// <summary>One particle for one worker; the batch's countdown says when all are done.</summary>
    private sealed record WorkItem(PreparedMessage Message, bool Gradient, BatchCountdown Countdown, bool RecordPose)
    {
        public override string ToString() => Message.ToString();
    }

    /// <summary>
    /// Counts a batch's particles down and sums their results per worker; the totals add the workers' sums in worker
    /// order, so they do not depend on which worker finished first (each worker takes its particles in a fixed order).
    /// </summary>
    private sealed class BatchCountdown
    {
        private int _left;
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly double[] _ll, _error;

        public BatchCountdown(int count, int workers)
        {
            _left = count;
            _ll = new double[workers];
            _error = new double[workers];
            if (count == 0) _done.SetResult();
        }

        public Task Done => _done.Task;

        /// <summary>Σ LL, once <see cref="Done"/>.</summary>
        public double LogLikelihoodSum => Sum(_ll);

        /// <summary>Σ (expected squared error + out-of-band energy), once <see cref="Done"/>.</summary>
        public double SquaredErrorSum => Sum(_error);

        /// <summary>Called by <paramref name="worker"/> only, once per particle it was given.</summary>
        public void Signal(int worker, double ll, double error, double outOfBand)
        {
            _ll[worker] += ll;
            _error[worker] += error + outOfBand;
            if (Interlocked.Decrement(ref _left) == 0) _done.SetResult();
        }

        private static double Sum(double[] perWorker)
        {
            double total = 0;
            foreach (double v in perWorker) total += v;
            return total;
        }
    }

    private void Marginalise(int worker, WorkItem item)
    {
        var prepared = item.Message.Prepared!;
        MarginalResult result;
        if (_sampling is null)
        {
            result = _marginalisers[worker].Evaluate(prepared, _slices!, _grid!.AsSubset(), item.Gradient ? _gradients[worker] : null);
        }
        else
        {
            var sw = _samplingWorkers[worker];
            var subset = _sampling.Sample(sw, item.Message.Particle, _iteration);
            result = _marginalisers[worker].Evaluate(prepared, _slices!, subset, item.Gradient ? _gradients[worker] : null, _sampling.Outputs(sw));
            // the first evaluation of the iteration records the posterior; line-search evaluations reuse the same samples
            if (item.RecordPose) _sampling.Record(sw, item.Message.Particle, _iteration);
        }
        if (item.RecordPose) _poses!.Set(item.Message.Particle, result.BestPose, result.BestProbability);
        double outOfBand = prepared.TotalEnergy - prepared.EnergyWithin(_slices!.Disc.Radius);
        item.Countdown.Signal(worker, result.LogLikelihood, result.ExpectedSquaredError, outOfBand);
    }

    /// <summary>Marginalises the valid particles of a batch on the worker blocks; returns (particles, LL sum) and the summed squared error.</summary>
    private MinibatchTotals RunBatch(List<PreparedMessage> items, bool withGradient, bool recordPose, out double squaredErrorSum)
    {
        var workers = _workers;
        if (withGradient) foreach (var g in _gradients) g.Clear();
        var valid = items.Where(m => m.Prepared is not null).ToList();
        var countdown = new BatchCountdown(valid.Count, workers.Length);
        for (int i = 0; i < valid.Count; i++)
            if (!workers[i % workers.Length].Post(new WorkItem(valid[i], withGradient, countdown, recordPose)))
                throw new InvalidOperationException("a marginalisation worker stopped");
        var first = Task.WhenAny(countdown.Done, _workerStopped).GetAwaiter().GetResult();
        if (first != countdown.Done)
        {
            var failed = workers.First(w => w.Completion.IsCompleted).Completion;
            failed.GetAwaiter().GetResult(); // rethrows the worker's exception
            throw new OperationCanceledException("marginalisation stopped");
        }
        squaredErrorSum = countdown.SquaredErrorSum;
        return new MinibatchTotals(valid.Count, countdown.LogLikelihoodSum);
    }

    /// <summary>The minibatch objective at a trial density (line search): same particles, likelihood only.</summary>
    private double BatchObjective(ReadOnlySpan<float> point, List<PreparedMessage> items, IDensityPrior prior)
    {
        _projector.Transform(point, _transform);
        _slices!.Update(_projector, _transform, _threads);
        var totals = RunBatch(items, withGradient: false, recordPose: false, out _);
        return -totals.MeanLogLikelihood + prior.Value(point);
    }

    /// <summary>Mean NLL and RREMSE of the held-out set at the current slices (and their best poses).</summary>
    private (double Nll, double Rremse) EvaluateTest(List<PreparedMessage> test)
    {
        var totals = RunBatch(test, withGradient: false, recordPose: true, out double squaredError);
        double n = Math.Max(1, totals.Particles);
        return (-totals.LogLikelihoodSum / n, Math.Sqrt(squaredError / n / ((double)_box * _box)));
    }
}
