using CryoFlow.Numerics.Imaging;

namespace CryoFlow.Numerics.Tests.Imaging;

public class GrayscaleMappingTests
{
    [Fact]
    public void MinimumIsBlackMaximumIsWhiteAndTheRestLinear()
    {
        float[] image = [-1, 0, 1, 3];
        var pixels = new byte[4];
        GrayscaleMapping.ToGray8(image, 4, pixels, originAtBottom: false);
        Assert.Equal([0, 64, 128, 255], pixels);
    }

    [Fact]
    public void OriginAtBottomPutsTheFirstRowAtTheBottom()
    {
        float[] image = [0, 1, 2, 3, 4, 5]; // 3 wide, 2 rows: v = 0 is (0, 1, 2)
        var pixels = new byte[6];
        GrayscaleMapping.ToGray8(image, 3, pixels, originAtBottom: true);
        Assert.Equal([153, 204, 255, 0, 51, 102], pixels);
    }

    [Fact]
    public void NonFiniteValuesAreIgnoredForTheRangeAndShownBlack()
    {
        float[] image = [float.NaN, 2, float.PositiveInfinity, 4];
        var pixels = new byte[4];
        GrayscaleMapping.ToGray8(image, 2, pixels, originAtBottom: false);
        Assert.Equal([0, 0, 0, 255], pixels);
        Assert.Equal((2f, 4f), GrayscaleMapping.FiniteRange(image));
    }

    [Fact]
    public void AConstantImageIsBlack()
    {
        var pixels = new byte[4];
        GrayscaleMapping.ToGray8([7, 7, 7, 7], 2, pixels, originAtBottom: false);
        Assert.All(pixels, p => Assert.Equal(0, p));
        Assert.Equal((0f, 0f), GrayscaleMapping.FiniteRange([float.NaN]));
    }
}
