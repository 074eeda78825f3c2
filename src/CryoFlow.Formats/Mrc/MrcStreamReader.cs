using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using CryoFlow.Formats.Errors;
using Serilog;

namespace CryoFlow.Formats.Mrc;

/// <summary>One image handed out by <see cref="MrcStreamReader.ReadAllAsync"/>.</summary>
/// <param name="Index">0-based image index in the stack</param>
/// <param name="Pixels">NX*NY floats, x fastest; a pooled buffer valid only until the next image is requested</param>
public readonly record struct MrcStreamImage(long Index, ReadOnlyMemory<float> Pixels);

/// <summary>
/// Sequential pass over an MRC stack from any <see cref="Stream"/> (file, pipe, network; one that returns a
/// single byte per read works too), built on <see cref="PipeReader"/>. Holds about one image and one read
/// buffer at a time, whatever the stack's length, and decodes into a buffer the caller owns
/// (<see cref="ReadNextAsync"/>) or a pooled one (<see cref="ReadAllAsync"/>).
/// <para>
/// A cursor, like an enumerator: calls must not overlap (an overlapping call throws
/// <see cref="InvalidOperationException"/>), but successive calls may come from any thread, and separate
/// readers over the same file are independent. For concurrent random access use <see cref="MrcReader"/>.
/// </para>
/// <para>
/// The length of a non-seekable stream is unknown in advance, so nothing is ever allocated on the word of the
/// header alone: the extended header grows as its bytes arrive and an image buffer is rented only once that
/// image's bytes are buffered. A stream that ends early gives <see cref="MrcFormatException"/> naming the
/// record; an exception thrown by the stream itself propagates unchanged.
/// </para>
/// </summary>
public sealed class MrcStreamReader : IAsyncDisposable, IDisposable
{
    private const int ReadBufferSize = 1 << 20;
    private const int MinimumReadSize = 64 << 10;

    private readonly PipeReader _pipe;
    private readonly long _sectionBytes;
    private byte[]? _scratch;
    private ReadOnlySequence<byte> _ready;
    private int _busy;
    private bool _disposed;

    private MrcStreamReader(string name, PipeReader pipe, MrcHeader header, MrcLayout layout, IReadOnlyList<MrcWarning> warnings)
    {
        FilePath = name;
        _pipe = pipe;
        Header = header;
        Layout = layout;
        Warnings = warnings;
        _sectionBytes = header.BytesPerSection;
    }

    /// <summary>The file name, or whatever name the caller gave the stream.</summary>
    public string FilePath { get; }

    public MrcHeader Header { get; }

    public MrcLayout Layout { get; }

    public IReadOnlyList<MrcWarning> Warnings { get; }

    /// <summary>NZ, the images the header declares.</summary>
    public long ImageCount => Header.Nz;

    /// <summary>Images decoded so far; also the index of the next one.</summary>
    public long ImagesRead { get; private set; }

    /// <summary>NX * NY, the floats one image needs.</summary>
    public int PixelsPerImage => (int)Header.VoxelsPerSection;

    /// <summary>Opens a file for one sequential pass.</summary>
    public static ValueTask<MrcStreamReader> OpenAsync(string path, MrcLayout layout = MrcLayout.Stack, ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        // No FileStream buffer: the pipe is the buffer.
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        return OpenAsync(stream, path, layout, leaveOpen: false, logger, cancellationToken);
    }

    /// <summary>
    /// Reads the header from the current position of <paramref name="stream"/>. When the stream can seek, the
    /// declared size is checked against its remaining length at once; otherwise as the data arrive.
    /// </summary>
    /// <param name="name">file name for messages and warnings</param>
    /// <param name="leaveOpen">false: disposing the reader disposes the stream</param>
    public static async ValueTask<MrcStreamReader> OpenAsync(Stream stream, string name, MrcLayout layout = MrcLayout.Stack,
        bool leaveOpen = false, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long? length = stream.CanSeek ? stream.Length - stream.Position : null;
        var pipe = PipeReader.Create(stream, new StreamPipeReaderOptions(
            bufferSize: ReadBufferSize, minimumReadSize: MinimumReadSize, leaveOpen: leaveOpen));
        bool ok = false;
        try
        {
            var sink = new MrcWarningSink(name, logger);
            var header = await ReadHeaderAsync(pipe, name, length, sink, cancellationToken).ConfigureAwait(false);
            MrcLayoutCheck.CheckSectionFitsSpan(header, name);
            MrcLayoutCheck.Warn(header, layout, sink);
            var reader = new MrcStreamReader(name, pipe, header, layout, sink.Snapshot());
            ok = true;
            return reader;
        }
        finally
        {
            if (!ok) await pipe.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static async ValueTask<MrcHeader> ReadHeaderAsync(PipeReader pipe, string name, long? length, MrcWarningSink sink,
        CancellationToken ct)
    {
        MrcHeader header;
        while (true)
        {
            var result = await pipe.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= MrcHeader.MainHeaderSize)
            {
                var mainSeq = buffer.Slice(0, MrcHeader.MainHeaderSize);
                byte[] main = new byte[MrcHeader.MainHeaderSize];
                mainSeq.CopyTo(main);
                pipe.AdvanceTo(mainSeq.End);
                header = MrcHeaderParser.Parse(main, name, length, sink);
                break;
            }
            if (result.IsCompleted)
                throw new MrcFormatException("file is shorter than the 1024-byte MRC header",
                    new DataLocation(name, "header", buffer.Length, Expected: "at least 1024 bytes", Found: $"{buffer.Length} bytes"));
            pipe.AdvanceTo(buffer.Start, buffer.End);
        }

        if (header.Nsymbt == 0) return header;

        // Grows with the bytes that actually arrive, never to NSYMBT on the header's word.
        var ext = new ArrayBufferWriter<byte>(Math.Min(header.Nsymbt, 64 << 10));
        while (ext.WrittenCount < header.Nsymbt)
        {
            var result = await pipe.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            long take = Math.Min(buffer.Length, header.Nsymbt - ext.WrittenCount);
            var part = buffer.Slice(0, take);
            foreach (var segment in part) ext.Write(segment.Span);
            pipe.AdvanceTo(part.End);
            if (ext.WrittenCount < header.Nsymbt && result.IsCompleted)
                throw new MrcFormatException("file is shorter than its extended header declares",
                    new DataLocation(name, "NSYMBT", MrcHeader.MainHeaderSize + (long)ext.WrittenCount,
                        Expected: $"{header.Nsymbt} extended-header bytes", Found: $"{ext.WrittenCount} bytes"));
        }
        return header with { ExtendedHeader = ext.WrittenMemory.ToArray() };
    }

    /// <summary>
    /// Decodes the next image into the first <see cref="PixelsPerImage"/> floats of <paramref name="destination"/>.
    /// Returns false, touching nothing, once all NZ images have been read.
    /// </summary>
    /// <exception cref="MrcFormatException">the stream ends before the image does (names the record)</exception>
    public async ValueTask<bool> ReadNextAsync(Memory<float> destination, CancellationToken cancellationToken = default)
    {
        if (destination.Length < PixelsPerImage)
            throw new ArgumentException($"destination holds {destination.Length} floats; an image needs {PixelsPerImage}", nameof(destination));
        Enter();
        try
        {
            if (ImagesRead >= Header.Nz) return false;
            if (!await FillAsync(cancellationToken).ConfigureAwait(false)) return false;
            DecodeBuffered(destination.Span[..PixelsPerImage]);
            return true;
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>
    /// Every remaining image in order, each in one pooled buffer that is overwritten by the next: copy what must
    /// outlive the loop body.
    /// </summary>
    public async IAsyncEnumerable<MrcStreamImage> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        float[]? pixels = null;
        try
        {
            while (true)
            {
                Enter();
                long index;
                try
                {
                    if (ImagesRead >= Header.Nz) yield break;
                    // The image's bytes are buffered before its float buffer is rented.
                    if (!await FillAsync(cancellationToken).ConfigureAwait(false)) yield break;
                    pixels ??= ArrayPool<float>.Shared.Rent(PixelsPerImage);
                    index = ImagesRead;
                    DecodeBuffered(pixels.AsSpan(0, PixelsPerImage));
                }
                finally
                {
                    Volatile.Write(ref _busy, 0);
                }
                yield return new MrcStreamImage(index, pixels.AsMemory(0, PixelsPerImage));
            }
        }
        finally
        {
            if (pixels is not null) ArrayPool<float>.Shared.Return(pixels);
        }
    }

    /// <summary>Waits until the next image's bytes are all in the pipe; leaves them in <see cref="_ready"/>.</summary>
    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (true)
        {
            var result = await _pipe.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= _sectionBytes)
            {
                _ready = buffer.Slice(0, _sectionBytes);
                return true;
            }
            if (result.IsCanceled)
            {
                _pipe.AdvanceTo(buffer.Start, buffer.End);
                throw new OperationCanceledException("the read was cancelled", ct);
            }
            if (result.IsCompleted)
            {
                long at = Header.DataOffset + ImagesRead * _sectionBytes + buffer.Length;
                _pipe.AdvanceTo(buffer.End);
                throw new MrcFormatException("file is shorter than its header declares: it ends inside an image",
                    new DataLocation(FilePath, "NZ", at, ImagesRead,
                        Expected: $"{Header.Nz} images of {_sectionBytes} bytes from byte {Header.DataOffset}",
                        Found: $"end of data after {ImagesRead} whole images and {buffer.Length} more bytes"));
            }
            _pipe.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private void DecodeBuffered(Span<float> destination)
    {
        var raw = _ready;
        if (raw.IsSingleSegment)
        {
            MrcPixelCodec.Decode(Header.Mode, Header.IsBigEndian, raw.FirstSpan, destination);
        }
        else
        {
            // The image straddles read buffers: gather it once. Rented only now that its bytes exist.
            _scratch ??= ArrayPool<byte>.Shared.Rent((int)_sectionBytes);
            var gathered = _scratch.AsSpan(0, (int)_sectionBytes);
            raw.CopyTo(gathered);
            MrcPixelCodec.Decode(Header.Mode, Header.IsBigEndian, gathered, destination);
        }
        _pipe.AdvanceTo(raw.End);
        _ready = default;
        ImagesRead++;
    }

    private void Enter()
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException($"{FilePath}: MrcStreamReader is a sequential cursor; calls must not overlap");
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _pipe.CompleteAsync().ConfigureAwait(false);
        ReturnScratch();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _pipe.Complete();
        ReturnScratch();
    }

    private void ReturnScratch()
    {
        if (_scratch is null) return;
        ArrayPool<byte>.Shared.Return(_scratch);
        _scratch = null;
    }

    public override string ToString() => $"{FilePath} (stream, {Header.Nx} x {Header.Ny} x {Header.Nz}, {ImagesRead} read)";
}
