using CryoFlow.Formats.Png;
using CryoFlow.Numerics.Imaging;

namespace CryoFlow.Pipeline.Report;

/// <summary>One view of a map as a PNG: a central section or a projection.</summary>
/// <param name="Title">e.g. "XY section (z = D/2)"</param>
/// <param name="Plane">the view's plane</param>
/// <param name="IsProjection">projection (sum along the normal) or central section</param>
/// <param name="Png">grayscale PNG, D x D, the plane's second axis pointing up</param>
public sealed record MapViewImage(string Title, MapPlane Plane, bool IsProjection, byte[] Png);

/// <summary>
/// The six views the report shows of every map: the central sections XY, XZ, YZ and the projections along z, y
/// and x (<see cref="VolumeViews"/>), each scaled from its own minimum (black) to its maximum (white) and drawn
/// with the second in-plane axis pointing up.
/// </summary>
public static class MapViewImages
{
    public static IReadOnlyList<MapViewImage> Render(ReadOnlySpan<float> volume, int box)
    {
        var views = new List<MapViewImage>(6);
        var image = new float[box * box];
        var pixels = new byte[box * box];
        foreach (bool projection in new[] { false, true })
            foreach (var plane in new[] { MapPlane.XY, MapPlane.XZ, MapPlane.YZ })
            {
                if (projection) VolumeViews.Projection(volume, box, plane, image);
                else VolumeViews.CentralSection(volume, box, plane, image);
                GrayscaleMapping.ToGray8(image, box, pixels, originAtBottom: true);
                views.Add(new MapViewImage(Title(plane, projection), plane, projection, PngWriter.EncodeGray8(pixels, box, box)));
            }
        return views;
    }

    private static string Title(MapPlane plane, bool projection) => (plane, projection) switch
    {
        (MapPlane.XY, false) => "XY section (z = D/2)",
        (MapPlane.XZ, false) => "XZ section (y = D/2)",
        (MapPlane.YZ, false) => "YZ section (x = D/2)",
        (MapPlane.XY, true) => "projection along z",
        (MapPlane.XZ, true) => "projection along y",
        _ => "projection along x",
    };
}
