using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Mrc;

/// <summary>The PipeReader-based sequential reader, over hostile streams.</summary>
public class MrcStreamReaderTests
{
    private static (byte[] Bytes, float[] Values) Stack(int mode, int nx, int ny, int nz, bool bigEndian = false, int ext = 0)
    {
        var values = RawMrc.ExactValues(mode, nx * ny * nz, seed: 42 + mode);
        var raw = new RawMrc(nx, ny, nz, mode, bigEndian).WithValues(mode, values);
        if (ext > 0) raw.WithExtendedHeader(Enumerable.Range(0, ext).Select(i => (byte)(i * 7)).ToArray(), "FEI2");
        return (raw.ToBytes(), values);
    }

    [Theory]
    [InlineData(2, false)]
    [InlineData(12, true)]
    [InlineData(101, false)]
    [InlineData(1, true)]
    public async Task ReadsStreamThatReturnsOneBytePerRead(int mode, bool bigEndian)
    {
        var (bytes, values) = Stack(mode, 6, 4, 5, bigEndian, ext: 37);
        var stream = new TrickleStream(bytes, chunk: 1);
        await using var reader = await MrcStreamReader.OpenAsync(stream, "trickle.mrcs", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(37, reader.Header.ExtendedHeader.Length);
        var got = new List<float>();
        var buffer = new float[reader.PixelsPerImage];
        while (await reader.ReadNextAsync(buffer, TestContext.Current.CancellationToken)) got.AddRange(buffer);
        Assert.Equal(values, got);
        Assert.Equal(5, reader.ImagesRead);
        Assert.True(stream.Reads >= bytes.Length);
    }

    [Fact]
    public async Task PooledPassYieldsEveryImageInOrder()
    {
        var (bytes, values) = Stack(2, 5, 3, 9);
        await using var reader = await MrcStreamReader.OpenAsync(new TrickleStream(bytes, 13), "pooled.mrcs",
            cancellationToken: TestContext.Current.CancellationToken);
        long expectedIndex = 0;
        await foreach (var image in reader.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            Assert.Equal(expectedIndex, image.Index);
            Assert.Equal(values.AsSpan((int)image.Index * 15, 15).ToArray(), image.Pixels.ToArray());
            expectedIndex++;
        }
        Assert.Equal(9, expectedIndex);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(30)]
    public async Task PropagatesTheStreamsOwnErrorAfterNReads(int failOnRead)
    {
        var (bytes, _) = Stack(2, 8, 8, 10);
        // 3584 bytes served 100 at a time: 36 reads, so every failOnRead here falls inside the file.
        var stream = new FailingStream(bytes, failOnRead, chunk: 100);
        var e = await Assert.ThrowsAsync<IOException>(async () =>
        {
            await using var reader = await MrcStreamReader.OpenAsync(stream, "failing.mrcs", cancellationToken: TestContext.Current.CancellationToken);
            var buffer = new float[reader.PixelsPerImage];
            while (await reader.ReadNextAsync(buffer, TestContext.Current.CancellationToken)) { }
        });
        Assert.Contains("simulated device error", e.Message);
        Assert.True(stream.Disposed);
    }

    [Fact]
    public async Task ChecksSeekableStreamLengthAtOpen()
    {
        var (bytes, _) = Stack(2, 8, 8, 10);
        var e = await Assert.ThrowsAsync<MrcFormatException>(async () =>
            await MrcStreamReader.OpenAsync(new MemoryStream(bytes[..^1]), "short.mrcs", cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal("NX, NY, NZ, MODE", e.Where.Field);
    }

    [Fact]
    public async Task StopsAtTheDeclaredImageCountAndLeavesTheBufferAlone()
    {
        var (bytes, _) = Stack(2, 2, 2, 1);
        await using var reader = await MrcStreamReader.OpenAsync(new MemoryStream([.. bytes, 9, 9, 9, 9]), "s.mrcs",
            cancellationToken: TestContext.Current.CancellationToken);
        var buffer = new float[4];
        Assert.True(await reader.ReadNextAsync(buffer, TestContext.Current.CancellationToken));
        buffer.AsSpan().Fill(123f);
        Assert.False(await reader.ReadNextAsync(buffer, TestContext.Current.CancellationToken));
        Assert.All(buffer, v => Assert.Equal(123f, v));
    }

    [Fact]
    public async Task ReadsFileFromPathLikeTheRandomAccessReader()
    {
        using var dir = new TempDir();
        var (bytes, _) = Stack(12, 33, 17, 40, bigEndian: true, ext: 1000);
        string path = dir.File("f.mrcs");
        File.WriteAllBytes(path, bytes);
        using var random = MrcReader.OpenStack(path);
        await using var reader = await MrcStreamReader.OpenAsync(path, cancellationToken: TestContext.Current.CancellationToken);
        await foreach (var image in reader.ReadAllAsync(TestContext.Current.CancellationToken))
            Assert.Equal(random.ReadImage(image.Index), image.Pixels.ToArray());
        Assert.Equal(40, reader.ImagesRead);
    }

    [Fact]
    public async Task RefusesOverlappingCallsOnOneCursor()
    {
        var (bytes, _) = Stack(2, 4, 4, 3);
        var gate = new GateStream(bytes);
        await using var reader = await MrcStreamReader.OpenAsync(gate, "g.mrcs", cancellationToken: TestContext.Current.CancellationToken);
        gate.Hold = true;
        var first = reader.ReadNextAsync(new float[16], TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await reader.ReadNextAsync(new float[16], TestContext.Current.CancellationToken));
        gate.Release();
        Assert.True(await first);
        Assert.True(await reader.ReadNextAsync(new float[16], TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task HonoursCancellation()
    {
        var (bytes, _) = Stack(2, 4, 4, 3);
        var gate = new GateStream(bytes);
        await using var reader = await MrcStreamReader.OpenAsync(gate, "c.mrcs", cancellationToken: TestContext.Current.CancellationToken);
        gate.Hold = true;
        using var cts = new CancellationTokenSource();
        var pending = reader.ReadNextAsync(new float[16], cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
        gate.Release();
    }

    /// <summary>Serves 1024 bytes per read (the header alone at open), and blocks reads while held.</summary>
    private sealed class GateStream(byte[] bytes) : Stream
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _position;

        public bool Hold { get; set; }

        public void Release() => _released.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Hold) await _released.Task.WaitAsync(cancellationToken);
            int n = Math.Min(Math.Min(buffer.Length, 1024), bytes.Length - _position);
            bytes.AsMemory(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
