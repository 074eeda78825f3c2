using System.Buffers.Binary;
using System.IO.Compression;

namespace CryoFlow.Formats.Png;

/// <summary>
/// Encodes 8-bit grayscale images as PNG (W3C PNG 3rd edition: colour type 0, bit depth 8, no interlace):
/// signature, IHDR, one IDAT holding the zlib stream of the filtered rows, IEND. Each row takes the filter
/// (None, Sub, Up, Average, Paeth) with the smallest sum of absolute signed residuals, libpng's heuristic,
/// which is what makes smooth density images compress.
/// </summary>
public static class PngWriter
{
    private static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The PNG file of a grayscale image.</summary>
    /// <param name="pixels">width x height bytes, row by row from the top row, 0 black, 255 white</param>
    /// <param name="width">pixels per row, at least 1</param>
    /// <param name="height">rows, at least 1</param>
    public static byte[] EncodeGray8(ReadOnlySpan<byte> pixels, int width, int height)
    {
        using var buffer = new MemoryStream();
        WriteGray8(buffer, pixels, width, height);
        return buffer.ToArray();
    }

    /// <summary>Writes the PNG file of a grayscale image to <paramref name="output"/> (see <see cref="EncodeGray8"/>).</summary>
    public static void WriteGray8(Stream output, ReadOnlySpan<byte> pixels, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        long expected = (long)width * height;
        if (pixels.Length != expected)
            throw new ArgumentException($"a {width} x {height} image has {expected} pixels; found {pixels.Length}", nameof(pixels));
        if (checked((long)(width + 1) * height) > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(width), $"{width} x {height} is too large to encode in one piece");

        output.Write(Signature);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;  // bit depth
        header[9] = 0;  // colour type: grayscale
        header[10] = 0; // compression: deflate
        header[11] = 0; // filter method: adaptive, five types
        header[12] = 0; // no interlace
        WriteChunk(output, "IHDR"u8, header);
        WriteChunk(output, "IDAT"u8, Compress(FilterRows(pixels, width, height)));
        WriteChunk(output, "IEND"u8, []);
    }

    /// <summary>Each row prefixed by its filter type byte, followed by the filtered bytes.</summary>
    private static byte[] FilterRows(ReadOnlySpan<byte> pixels, int width, int height)
    {
        var filtered = new byte[(width + 1) * height];
        var trial = new byte[width];
        Span<byte> zero = width <= 1024 ? stackalloc byte[width] : new byte[width];
        zero.Clear();
        for (int y = 0; y < height; y++)
        {
            var row = pixels.Slice(y * width, width);
            var above = y == 0 ? zero : pixels.Slice((y - 1) * width, width);
            var target = filtered.AsSpan(y * (width + 1), width + 1);
            long best = long.MaxValue;
            for (byte type = 0; type <= 4; type++)
            {
                Filter(type, row, above, trial);
                long cost = 0;
                foreach (byte b in trial) cost += Math.Abs((int)(sbyte)b);
                if (cost >= best) continue;
                best = cost;
                target[0] = type;
                trial.CopyTo(target[1..]);
            }
        }
        return filtered;
    }

    /// <summary>PNG filter <paramref name="type"/> of one row (1 byte per pixel, so the left neighbour is the previous byte).</summary>
    private static void Filter(byte type, ReadOnlySpan<byte> row, ReadOnlySpan<byte> above, Span<byte> result)
    {
        for (int x = 0; x < row.Length; x++)
        {
            int a = x > 0 ? row[x - 1] : 0, b = above[x], c = x > 0 ? above[x - 1] : 0;
            int predictor = type switch
            {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) >> 1,
                _ => Paeth(a, b, c),
            };
            result[x] = unchecked((byte)(row[x] - predictor));
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static byte[] Compress(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var zlib = new ZLibStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
            zlib.Write(data);
        return buffer.ToArray();
    }

    /// <summary>Length, type, data, and the CRC of type and data.</summary>
    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        output.Write(type);
        output.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Append(Crc32.Compute(type), data));
        output.Write(word);
    }
}
