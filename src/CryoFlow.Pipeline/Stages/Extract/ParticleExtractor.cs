using CryoFlow.Numerics.Extraction;
using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Resampling;

namespace CryoFlow.Pipeline.Stages.Extract;

/// <summary>Why an extracted particle was not kept.</summary>
public enum ExtractionStatus
{
    Ok,

    /// <summary>A pixel of the window is NaN or infinite.</summary>
    NonFinitePixel,

    /// <summary>The background has (almost) no variance: a blank or saturated patch.</summary>
    FlatBackground,
}

/// <summary>
/// Turns a box cut from a micrograph into a particle image, as relion_preprocess does: Fourier down-sampling to the
/// output box, contrast inversion, background normalisation (<see cref="ExtractOptions"/>). The same code serves
/// `cryoflow extract` (from a micrograph in memory) and on-demand extraction during a run (from a window read off
/// disk), so both give identical pixels. The extractor is immutable and shared; each thread uses its own
/// <see cref="Worker"/>, which allocates nothing per particle.
/// </summary>
public sealed class ParticleExtractor
{
    private readonly ImageResampler? _resampler;
    private readonly BackgroundNormaliser? _normaliser;

    public ParticleExtractor(ExtractOptions options, IFftBackend? backend = null)
    {
        options.Validate();
        Options = options;
        if (options.FinalBox != options.Box) _resampler = new ImageResampler(options.Box, options.FinalBox, backend);
        if (options.Normalise) _normaliser = new BackgroundNormaliser(options.FinalBox, options.FinalBackgroundRadius, options.SubtractRamp);
    }

    public ExtractOptions Options { get; }

    public Worker CreateWorker() => new(this);

    /// <summary>One thread's scratch.</summary>
    public sealed class Worker
    {
        private readonly ParticleExtractor _x;
        private readonly ImageResampler.Workspace? _resampling;

        internal Worker(ParticleExtractor x)
        {
            _x = x;
            Window = new float[x.Options.Box * x.Options.Box];
            _resampling = x._resampler?.CreateWorkspace();
        }

        /// <summary>Box x Box floats: the raw window, for callers that read it themselves.</summary>
        public float[] Window { get; }

        /// <summary>Cuts the window with lower corner (<paramref name="x0"/>, <paramref name="y0"/>) from a micrograph in memory and finishes it.</summary>
        /// <param name="micrograph">width x height floats, [y][x]; the window must lie inside</param>
        /// <param name="output">FinalBox x FinalBox floats</param>
        public ExtractionStatus Extract(ReadOnlySpan<float> micrograph, int width, int x0, int y0, Span<float> output)
        {
            int box = _x.Options.Box;
            for (int y = 0; y < box; y++)
                micrograph.Slice((y0 + y) * width + x0, box).CopyTo(Window.AsSpan(y * box, box));
            return Finish(output);
        }

        /// <summary>Down-samples, inverts and normalises <see cref="Window"/> into <paramref name="output"/>.</summary>
        /// <param name="output">FinalBox x FinalBox floats</param>
        public ExtractionStatus Finish(Span<float> output)
        {
            foreach (float v in Window)
                if (!float.IsFinite(v)) return ExtractionStatus.NonFinitePixel;
            if (_x._resampler is { } r) r.Resample(Window, output, _resampling!);
            else Window.CopyTo(output);
            if (_x.Options.InvertContrast)
                for (int i = 0; i < output.Length; i++) output[i] = -output[i];
            if (_x._normaliser is { } n && !n.Normalise(output)) return ExtractionStatus.FlatBackground;
            return ExtractionStatus.Ok;
        }
    }
}
