using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.Pipeline.Reconstruction;
using CryoFlow.TestSupport;
using Serilog.Core;

namespace CryoFlow.Pipeline.Tests.Reconstruction;

public class ParticleDatasetTests
{
    [Fact]
    public void TheIdentityCtfIsOneAtEveryFrequency()
    {
        var ctf = ParticleDataset.IdentityCtf.CreateEvaluator();
        foreach (var (x, y) in new[] { (0.0, 0.0), (0.01, 0.0), (0.05, -0.07), (0.16, 0.16) })
            Assert.Equal(1, ctf.Evaluate(x, y), 12);
    }

    [Fact]
    public void ABareStackWithoutCtfIsReconstructedAndWrittenBack()
    {
        using var dir = new TempDir();
        ReconstructJobTests.Simulate(dir.File("data"), 60);
        string stack = Path.Combine(dir.File("data"), "particles.mrcs");
        using (var data = ParticleDataset.Open(stack, null, null, Logger.None))
        {
            Assert.Equal(60, data.Count);
            Assert.Null(data.Catalog[59].Ctf);
            Assert.Equal(new ParticleRef("particles.mrcs", 59), data.Catalog[59].Image);
        }
        var result = ReconstructJob.Run(new ReconstructRequest(stack, dir.File("run"), ReconstructJobTests.Quick(3)), Logger.None,
            cancel: TestContext.Current.CancellationToken);
        var rows = StarDocument.Read(result.ParticlesStarPath).Get("particles").RequireLoop();
        Assert.Equal(60, rows.RowCount);
        Assert.Equal("000060@particles.mrcs", rows.GetString(59, RelionLabels.ImageName));
        Assert.True(rows.Contains(RelionLabels.AngleRot) && rows.Contains(RelionLabels.MaxValueProbDistribution));
        Assert.Equal(0, result.Rejected);
    }
}
