using CryoFlow.Numerics.Imaging;

namespace CryoFlow.Numerics.Tests.Imaging;

public class VolumeViewsTests
{
    /// <summary>A map whose voxel (x, y, z) holds a distinct number, so every view can be checked voxel by voxel.</summary>
    private static float[] Coded(int d)
    {
        var v = new float[d * d * d];
        for (int z = 0; z < d; z++)
            for (int y = 0; y < d; y++)
                for (int x = 0; x < d; x++) v[(z * d + y) * d + x] = x + 100 * y + 10_000 * z;
        return v;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(8)]
    public void CentralSectionsTakeTheCentreVoxelOfTheNormalAxis(int d)
    {
        var map = Coded(d);
        var image = new float[d * d];
        int c = d / 2;
        VolumeViews.CentralSection(map, d, MapPlane.XY, image);
        for (int v = 0; v < d; v++)
            for (int u = 0; u < d; u++) Assert.Equal(u + 100 * v + 10_000 * c, image[v * d + u]);
        VolumeViews.CentralSection(map, d, MapPlane.XZ, image);
        for (int v = 0; v < d; v++)
            for (int u = 0; u < d; u++) Assert.Equal(u + 100 * c + 10_000 * v, image[v * d + u]);
        VolumeViews.CentralSection(map, d, MapPlane.YZ, image);
        for (int v = 0; v < d; v++)
            for (int u = 0; u < d; u++) Assert.Equal(c + 100 * u + 10_000 * v, image[v * d + u]);
    }

    [Fact]
    public void ProjectionsSumAlongTheNormalAxis()
    {
        const int d = 6;
        var map = Coded(d);
        var image = new float[d * d];
        double Sum(Func<int, float> voxel) => Enumerable.Range(0, d).Sum(w => (double)voxel(w));
        foreach (var plane in Enum.GetValues<MapPlane>())
        {
            VolumeViews.Projection(map, d, plane, image);
            for (int v = 0; v < d; v++)
                for (int u = 0; u < d; u++)
                {
                    double expected = plane switch
                    {
                        MapPlane.XY => Sum(z => map[(z * d + v) * d + u]),
                        MapPlane.XZ => Sum(y => map[(v * d + y) * d + u]),
                        _ => Sum(x => map[(v * d + u) * d + x]),
                    };
                    Assert.Equal(expected, image[v * d + u], 3);
                }
        }
    }

    [Fact]
    public void RefusesBuffersOfTheWrongLength()
    {
        Assert.Throws<ArgumentException>(() => VolumeViews.CentralSection(new float[27], 4, MapPlane.XY, new float[16]));
        Assert.Throws<ArgumentException>(() => VolumeViews.Projection(new float[64], 4, MapPlane.XY, new float[15]));
    }
}
