using System.Buffers.Binary;
using CryoFlow.Formats.State;
using CryoFlow.Numerics.Marginalisation;
using CryoFlow.Numerics.Quadrature;
using CryoFlow.Numerics.Sampling;
using CryoFlow.Pipeline.Configuration;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>
/// Importance sampling for the reconstruct pipeline (DESIGN.md 4.2): per particle and iteration, three factored
/// samplers (directions, in-plane angles, shifts) choose the poses to evaluate from the particle's last recorded state
/// (kept in a disk-backed <see cref="ParticleStateStore"/>), the dataset-average ("global") distribution and a uniform
/// floor. A particle's sample set depends only on (seed, iteration, particle) and on state that changes only after
/// the optimiser step (<see cref="Commit"/>), so the gradient and the line search evaluate the same set.
/// </summary>
internal sealed class SamplingEngine : IDisposable
{
    private const int Factors = 3;
    private readonly ImportanceSamplingOptions _options;
    private readonly ParticleStateStore _store;
    private readonly int _seed;
    private bool[] _training;
    private int _trainingCount;
    private readonly Dictionary<int, FactorDomain>[] _domains = [new(), new(), new()];
    private readonly FactorSampler?[] _samplers = new FactorSampler?[Factors];
    private readonly GlobalDistribution?[] _globals = new GlobalDistribution?[Factors];
    private readonly GlobalSnapshot?[] _snapshots = new GlobalSnapshot?[Factors];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, (FactorState?[] Old, FactorState[] New)> _pending = new();
    private QuadratureLevel? _level;
    private int _levelId = -1;
    private long _evaluated, _evaluatedD, _evaluatedP, _evaluatedT, _visits;

    /// <param name="snapshot">a checkpoint's snapshot of the particle states to continue from (then replay the levels with
    /// <see cref="EnterLevel"/> and call <see cref="ImportGlobals"/>); null for a fresh start</param>
    public SamplingEngine(ImportanceSamplingOptions options, int particleCount, IReadOnlyCollection<int> trainingParticles, string stateDirectory, int seed,
        string? snapshot = null)
    {
        _options = options;
        _seed = seed;
        _training = new bool[particleCount];
        foreach (int p in trainingParticles) _training[p] = true;
        _trainingCount = trainingParticles.Count;
        if (Directory.Exists(stateDirectory)) Directory.Delete(stateDirectory, recursive: true);
        _store = snapshot is null ? ParticleStateStore.Create(stateDirectory, particleCount) : ParticleStateStore.Open(snapshot, stateDirectory);
        if (_store.ParticleCount > particleCount)
        {
            _store.Dispose();
            throw new StateStoreFormatException("the importance-sampling states are for another number of particles",
                new Formats.Errors.DataLocation(FilePath: snapshot, Expected: $"{particleCount}", Found: $"{_store.ParticleCount}"));
        }
        _store.Grow(particleCount); // a live run's checkpoint from before its pool grew
    }

    /// <summary>Makes room for particles up to <paramref name="particleCount"/>, <paramref name="newTraining"/> among them training ones (a live run's pool grows).</summary>
    public void Grow(int particleCount, IReadOnlyList<int> newTraining)
    {
        _store.Grow(particleCount);
        if (_training.Length < particleCount) Array.Resize(ref _training, particleCount);
        foreach (int p in newTraining)
            if (!_training[p]) { _training[p] = true; _trainingCount++; }
    }

    /// <summary>The global distributions of the current level (sums and weights), for a checkpoint.</summary>
    public IReadOnlyList<(double[] Sum, double Weight)> ExportGlobals() => _globals.Select(g => g!.Export()).ToArray();

    /// <summary>Replaces the global distributions of the current level by a checkpoint's.</summary>
    public void ImportGlobals(IReadOnlyList<(double[] Sum, double Weight)> globals)
    {
        if (globals.Count != Factors) throw new ArgumentException($"{globals.Count} global distributions, expected {Factors}", nameof(globals));
        for (int f = 0; f < Factors; f++) _globals[f] = GlobalDistribution.Import(_domains[f][_levelId], globals[f].Sum, globals[f].Weight);
    }

    /// <summary>Writes the particle states as a state-store snapshot (a checkpoint; between iterations).</summary>
    public void Snapshot(Stream output, string name) => _store.Snapshot(output, name);

    /// <summary>Per-worker scratch: one sampling workspace per factor and the sample set handed to the marginaliser.</summary>
    public sealed class Worker
    {
        public SamplingWorkspace[] Workspaces { get; } = [new(), new(), new()];
        public PoseSampleSet Set { get; } = new();
        public double[][] Posteriors { get; } = [[], [], []];
    }

    /// <summary>A new quadrature level: new domains and samplers; the global distributions are carried over through the kernel.</summary>
    public void EnterLevel(QuadratureLevel level, int levelId)
    {
        var domains = new[] { FactorDomain.Directions(level, levelId), FactorDomain.InPlane(level, levelId), FactorDomain.Shifts(level, levelId) };
        for (int f = 0; f < Factors; f++)
        {
            _domains[f][levelId] = domains[f];
            var sampler = new FactorSampler(domains[f]);
            _globals[f] = _globals[f] is { } old ? GlobalDistribution.Remap(old, sampler.KernelFrom(_domains[f][_levelId], flip: false)) : new GlobalDistribution(domains[f]);
            _samplers[f] = sampler;
        }
        _level = level;
        _levelId = levelId;
    }

    /// <summary>Freezes the global distributions for this iteration's proposals.</summary>
    public void BeginIteration()
    {
        for (int f = 0; f < Factors; f++) _snapshots[f] = _globals[f]!.Snapshot(_trainingCount);
        _pending.Clear();
        _evaluated = _evaluatedD = _evaluatedP = _evaluatedT = _visits = 0;
    }

    /// <summary>The poses to evaluate for <paramref name="particle"/> at <paramref name="iteration"/> (valid until the worker's next call).</summary>
    public PoseSubset Sample(Worker worker, int particle, int iteration)
    {
        var states = ReadStates(particle);
        var rng = new Random(Sampling.Seeds.Mix(_seed, iteration, particle));
        bool flip = iteration < _options.ChiralityFlipUntil;
        double[] global = [_options.GlobalShare.Directions, _options.GlobalShare.InPlane, _options.GlobalShare.Shifts];
        for (int f = 0; f < Factors; f++)
        {
            var state = states[f];
            double uniform = state is null ? 1 : Math.Clamp(_options.UniformShare.At(state.Iteration), 0, 1);
            var parameters = new ProposalParameters(uniform, global[f], _options.EssScale, flip) { FullGridFraction = _options.FullGridEssFraction };
            _samplers[f]!.Sample(state, state is null ? null : _domains[f][state.LevelId], parameters, _snapshots[f], rng, worker.Workspaces[f]);
        }
        worker.Set.Build(_level!, worker.Workspaces[0], worker.Workspaces[1], worker.Workspaces[2]);
        return worker.Set.AsSubset();
    }

    /// <summary>Buffers for the posterior marginals of the last sample set of this worker.</summary>
    public MarginalOutputs Outputs(Worker worker)
    {
        for (int f = 0; f < Factors; f++)
            if (worker.Posteriors[f].Length < worker.Workspaces[f].Count) worker.Posteriors[f] = new double[Math.Max(worker.Workspaces[f].Count, 2 * worker.Posteriors[f].Length)];
        return new MarginalOutputs
        {
            PosteriorDirection = worker.Posteriors[0].AsSpan(0, worker.Workspaces[0].Count),
            PosteriorInPlane = worker.Posteriors[1].AsSpan(0, worker.Workspaces[1].Count),
            PosteriorShift = worker.Posteriors[2].AsSpan(0, worker.Workspaces[2].Count),
        };
    }

    /// <summary>Records the first visit of this iteration (annealed marginals), to be committed after the step.</summary>
    public void Record(Worker worker, int particle, int iteration)
    {
        double temperature = Math.Max(1, _options.Temperature.At(iteration));
        var fresh = new FactorState[Factors];
        for (int f = 0; f < Factors; f++)
        {
            var ws = worker.Workspaces[f];
            fresh[f] = FactorState.Record(_levelId, iteration, ws.Indices, ws.LogWeights, worker.Posteriors[f].AsSpan(0, ws.Count), temperature);
        }
        _pending[particle] = (ReadStates(particle), fresh);
        Interlocked.Add(ref _evaluated, worker.Set.PoseCount);
        Interlocked.Add(ref _evaluatedD, worker.Workspaces[0].Count);
        Interlocked.Add(ref _evaluatedP, worker.Workspaces[1].Count);
        Interlocked.Add(ref _evaluatedT, worker.Workspaces[2].Count);
        Interlocked.Increment(ref _visits);
    }

    /// <summary>Stores this iteration's new states and updates the global distributions (training particles only), in particle order.</summary>
    public void Commit()
    {
        var buffer = new byte[4096];
        foreach (var (particle, (old, fresh)) in _pending.OrderBy(kv => kv.Key))
        {
            if (_training[particle])
            {
                for (int f = 0; f < Factors; f++)
                {
                    if (old[f] is { } o && _domains[f].TryGetValue(o.LevelId, out var od))
                        _globals[f]!.Accumulate(o, _samplers[f]!.KernelFrom(od, flip: false), -1);
                    _globals[f]!.Accumulate(fresh[f], _samplers[f]!.KernelFrom(_domains[f][_levelId], flip: false), +1);
                }
            }
            int size = 4 * Factors + fresh.Sum(s => s.SerializedSize);
            if (buffer.Length < size) buffer = new byte[size];
            int at = 0;
            foreach (var s in fresh)
            {
                BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(at), s.SerializedSize);
                at += 4;
                at += s.WriteTo(buffer.AsSpan(at));
            }
            _store.Put(particle, buffer.AsSpan(0, at));
        }
        _pending.Clear();
    }

    /// <summary>Fractions of the full quadrature evaluated this iteration: total, directions, in-plane, shifts.</summary>
    public (double Total, double Directions, double InPlane, double Shifts) Fractions()
    {
        if (_visits == 0 || _level is null) return (1, 1, 1, 1);
        double v = _visits;
        return (_evaluated / (v * _level.PoseCount), _evaluatedD / (v * _domains[0][_levelId].Count),
            _evaluatedP / (v * _domains[1][_levelId].Count), _evaluatedT / (v * _domains[2][_levelId].Count));
    }

    /// <summary>Bytes of the particle's committed record in the state store (-1 before its first commit).</summary>
    public int StateBytes(int particle) => _store.GetLength(particle);

    private FactorState?[] ReadStates(int particle)
    {
        var bytes = _store.Get(particle);
        var states = new FactorState?[Factors];
        if (bytes is null) return states;
        int at = 0;
        for (int f = 0; f < Factors; f++)
        {
            int size = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at));
            at += 4;
            var s = FactorState.Read(bytes.AsSpan(at, size));
            at += size;
            // a state from a level whose domain is no longer known cannot seed a proposal: start that factor afresh
            states[f] = _domains[f].ContainsKey(s.LevelId) ? s : null;
        }
        return states;
    }

    public void Dispose() => _store.Dispose();
}
