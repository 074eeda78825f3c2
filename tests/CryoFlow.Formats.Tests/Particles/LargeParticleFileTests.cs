using System.Globalization;
using System.Text;
using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Particles;

/// <summary>Scale: a 200,000-row RELION 3.1 file parses (counts only; timing belongs in the benchmarks).</summary>
public class LargeParticleFileTests
{
    [Fact]
    public void ParsesA200000RowFile()
    {
        const int rows = 200_000, stacks = 500;
        using var dir = new TempDir();
        string path = dir.File("big.star");
        using (var w = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16))
        {
            w.Write("# version 30001\n\ndata_optics\n\nloop_\n_rlnOpticsGroup #1\n_rlnVoltage #2\n_rlnSphericalAberration #3\n_rlnAmplitudeContrast #4\n_rlnImagePixelSize #5\n_rlnImageSize #6\n1 300 2.7 0.1 1.06 256\n\n");
            w.Write("# version 30001\n\ndata_particles\n\nloop_\n_rlnImageName #1\n_rlnMicrographName #2\n_rlnDefocusU #3\n_rlnDefocusV #4\n_rlnDefocusAngle #5\n_rlnAngleRot #6\n_rlnAngleTilt #7\n_rlnAnglePsi #8\n_rlnOriginXAngst #9\n_rlnOriginYAngst #10\n_rlnOpticsGroup #11\n_rlnRandomSubset #12\n");
            var inv = CultureInfo.InvariantCulture;
            for (int i = 0; i < rows; i++)
            {
                int s = i / (rows / stacks);
                w.Write(string.Create(inv, $"{i % (rows / stacks) + 1:D6}@Extract/job1/mic{s:D5}.mrcs Micrographs/mic{s:D5}.mrc {10000 + i * 0.01:F6} {9800 + i * 0.01:F6} 12.5 {i % 360 - 180}.25 {i % 180}.5 {i % 360}.75 {i % 7 - 3}.1 -0.{i % 10} 1 {i % 2 + 1}\n"));
            }
        }

        var doc = StarDocument.Read(path);
        Assert.Equal(rows, doc.Get("particles").Loop!.RowCount);
        var table = ParticleTable.FromStar(doc);
        Assert.Equal(rows, table.Count);
        Assert.Equal(stacks, table.DistinctStackPaths.Count);
        Assert.Equal(new ParticleRef("Extract/job1/mic00499.mrcs", 399), table[rows - 1].Image);
        Assert.Equal(2, table[rows - 1].RandomSubset);
    }
}
