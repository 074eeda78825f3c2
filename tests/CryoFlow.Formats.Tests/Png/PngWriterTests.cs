using System.Text;
using CryoFlow.Formats.Png;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Png;

/// <summary>PNG files decoded back by a reader written from the specification and by Python's zlib.</summary>
public class PngWriterTests
{
    /// <summary>Noise, a smooth ramp and a hard-edged disc, so that every row filter is worth choosing somewhere.</summary>
    private static byte[] TestImage(int width, int height, int seed)
    {
        var rng = new Random(seed);
        var pixels = new byte[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                double dx = x - width / 2.0, dy = y - height / 2.0;
                int v = y < height / 3 ? rng.Next(256)
                    : y < 2 * height / 3 ? (x * 255 / Math.Max(1, width - 1) + y) & 0xFF
                    : dx * dx + dy * dy < width * width / 16.0 ? 230 : 20;
                pixels[y * width + x] = (byte)v;
            }
        return pixels;
    }

    [Fact]
    public void Crc32OfTheCheckStringIsTheStandardValue() =>
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));

    [Fact]
    public void Crc32AppendedInPiecesEqualsCrc32OfTheWhole()
    {
        var data = Encoding.ASCII.GetBytes("IDAT and some data");
        Assert.Equal(Crc32.Compute(data), Crc32.Append(Crc32.Compute(data.AsSpan(0, 4)), data.AsSpan(4)));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 7)]
    [InlineData(7, 1)]
    [InlineData(31, 33)]
    [InlineData(128, 128)]
    [InlineData(1500, 3)]
    public void DecodesBackToTheSamePixels(int width, int height)
    {
        var pixels = TestImage(width, height, width * 31 + height);
        var image = PngTestDecoder.Decode(PngWriter.EncodeGray8(pixels, width, height));
        Assert.Equal((width, height), (image.Width, image.Height));
        Assert.Equal(["IHDR", "IDAT", "IEND"], image.Chunks);
        Assert.Equal(pixels, image.Pixels);
    }

    [Fact]
    public void SmoothImagesUseRowFiltersAndCompress()
    {
        const int w = 128, h = 128;
        var ramp = new byte[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) ramp[y * w + x] = (byte)((x + 2 * y) / 3);
        byte[] png = PngWriter.EncodeGray8(ramp, w, h);
        var image = PngTestDecoder.Decode(png);
        Assert.Equal(ramp, image.Pixels);
        Assert.Contains(image.Filters, f => f != 0);
        Assert.True(png.Length < w * h / 20, $"{png.Length} bytes for a {w} x {h} ramp");
    }

    [Fact]
    public void RefusesAPixelCountThatDoesNotMatchTheSize()
    {
        Assert.Throws<ArgumentException>(() => PngWriter.EncodeGray8(new byte[10], 3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => PngWriter.EncodeGray8([], 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PngWriter.EncodeGray8([], 1, 0));
    }

    /// <summary>Python's zlib and struct as the independent referee: chunk CRCs, IHDR, inflate, unfilter.</summary>
    [Fact]
    public void PythonZlibDecodesTheSamePixels()
    {
        string python = Peers.Require(Peers.Which("python3"), "python3", "python3");
        using var dir = new TempDir();
        const int w = 45, h = 38;
        var pixels = TestImage(w, h, 3);
        File.WriteAllBytes(dir.File("image.png"), PngWriter.EncodeGray8(pixels, w, h));
        File.WriteAllText(dir.File("decode.py"), PythonDecoder);
        var r = Peers.Run(python, [dir.File("decode.py"), dir.File("image.png"), dir.File("pixels.raw")], timeoutMs: 60_000);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal($"{w} {h}", r.StdOut.Trim());
        Assert.Equal(pixels, File.ReadAllBytes(dir.File("pixels.raw")));
    }

    private const string PythonDecoder = """
        import struct, sys, zlib
        data = open(sys.argv[1], 'rb').read()
        assert data[:8] == b'\x89PNG\r\n\x1a\n', 'signature'
        pos, idat, width, height = 8, b'', None, None
        while pos < len(data):
            length, kind = struct.unpack('>I4s', data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + length]
            crc, = struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])
            assert zlib.crc32(kind + body) & 0xffffffff == crc, kind
            if kind == b'IHDR':
                width, height, depth, colour, comp, filt, interlace = struct.unpack('>IIBBBBB', body)
                assert (depth, colour, comp, filt, interlace) == (8, 0, 0, 0, 0)
            elif kind == b'IDAT':
                idat += body
            pos += 12 + length
        raw = zlib.decompress(idat)
        out = bytearray(width * height)
        for y in range(height):
            f = raw[y * (width + 1)]
            for x in range(width):
                a = out[y * width + x - 1] if x else 0
                b = out[(y - 1) * width + x] if y else 0
                c = out[(y - 1) * width + x - 1] if x and y else 0
                if f == 0: p = 0
                elif f == 1: p = a
                elif f == 2: p = b
                elif f == 3: p = (a + b) // 2
                else:
                    q = a + b - c
                    pa, pb, pc = abs(q - a), abs(q - b), abs(q - c)
                    p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                out[y * width + x] = (raw[y * (width + 1) + 1 + x] + p) & 0xff
        open(sys.argv[2], 'wb').write(out)
        print(width, height)
        """;
}
