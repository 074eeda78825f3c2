using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Xunit;

namespace CryoFlow.TestSupport;

/// <summary>
/// A minimal PNG reader for grayscale 8-bit files, written from the specification for the tests: it checks
/// the signature, every chunk's CRC (bit by bit, not with the writer's table), the IHDR fields and the chunk
/// order, inflates the IDAT data and undoes the five row filters.
/// </summary>
public static class PngTestDecoder
{
    /// <param name="Pixels">row-major from the top row</param>
    public sealed record Image(int Width, int Height, byte[] Pixels, IReadOnlyList<string> Chunks, IReadOnlyList<byte> Filters);

    /// <summary>Decodes the PNG of a data URI (data:image/png;base64,...).</summary>
    public static Image DecodeDataUri(string uri)
    {
        const string prefix = "data:image/png;base64,";
        Assert.StartsWith(prefix, uri);
        return Decode(Convert.FromBase64String(uri[prefix.Length..]));
    }

    public static Image Decode(byte[] file)
    {
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        Assert.Equal(signature, file[..8]);
        int pos = 8, width = 0, height = 0;
        var chunks = new List<string>();
        var idat = new MemoryStream();
        while (pos < file.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(pos));
            string type = Encoding.ASCII.GetString(file, pos + 4, 4);
            var data = file.AsSpan(pos + 8, length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(pos + 8 + length));
            Assert.Equal(BitwiseCrc(file.AsSpan(pos + 4, 4 + length)), crc);
            chunks.Add(type);
            if (type == "IHDR")
            {
                Assert.Equal(13, length);
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                Assert.Equal([8, 0, 0, 0, 0], data[8..].ToArray()); // depth 8, grayscale, deflate, adaptive, no interlace
            }
            else if (type == "IDAT") idat.Write(data);
            pos += 12 + length;
        }
        Assert.Equal(file.Length, pos);
        Assert.Equal("IHDR", chunks[0]);
        Assert.Equal("IEND", chunks[^1]);

        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(inflated);
        byte[] raw = inflated.ToArray();
        Assert.Equal((width + 1) * height, raw.Length);
        var pixels = new byte[width * height];
        var filters = new byte[height];
        for (int y = 0; y < height; y++)
        {
            byte filter = raw[y * (width + 1)];
            filters[y] = filter;
            for (int x = 0; x < width; x++)
            {
                int a = x > 0 ? pixels[y * width + x - 1] : 0;
                int b = y > 0 ? pixels[(y - 1) * width + x] : 0;
                int c = x > 0 && y > 0 ? pixels[(y - 1) * width + x - 1] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => PaethPredictor(a, b, c),
                    _ => throw new InvalidDataException($"row {y}: unknown filter {filter}"),
                };
                pixels[y * width + x] = (byte)(raw[y * (width + 1) + 1 + x] + predictor);
            }
        }
        return new Image(width, height, pixels, chunks, filters);
    }

    private static int PaethPredictor(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return a;
        return pb <= pc ? b : c;
    }

    private static uint BitwiseCrc(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte d in data)
        {
            c ^= d;
            for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (uint)-(int)(c & 1));
        }
        return c ^ 0xFFFFFFFF;
    }
}
