using CryoFlow.Formats.Checkpoints;

namespace CryoFlow.TestSupport;

/// <summary>
/// A checkpoint file system with a disk that fills up: after <see cref="BytesLeft"/> bytes have been written (over all
/// files) a write stores what still fits and throws the IOException a full disk gives; <see cref="FailRenames"/> makes
/// publishing a checkpoint fail. Everything else goes to the real disk.
/// </summary>
public sealed class FaultyCheckpointFiles : CheckpointFileSystem
{
    private long _left = long.MaxValue;

    /// <summary>Bytes that can still be written before the disk is full; long.MaxValue: never full.</summary>
    public long BytesLeft
    {
        get => Interlocked.Read(ref _left);
        set => Interlocked.Exchange(ref _left, value);
    }

    public bool FailRenames { get; set; }

    /// <summary>Full-disk errors raised so far.</summary>
    public int Faults { get; private set; }

    public override Stream CreateFile(string path) => new DiskStream(base.CreateFile(path), this);

    public override void FlushToDisk(Stream file) => base.FlushToDisk(file is DiskStream d ? d.Inner : file);

    public override void MoveDirectory(string from, string to)
    {
        if (FailRenames)
        {
            Faults++;
            throw new IOException($"simulated failure renaming {from}");
        }
        base.MoveDirectory(from, to);
    }

    /// <summary>Takes up to <paramref name="wanted"/> bytes of the space left.</summary>
    private int Reserve(int wanted)
    {
        while (true)
        {
            long left = Interlocked.Read(ref _left);
            int granted = (int)Math.Min(left, wanted);
            if (Interlocked.CompareExchange(ref _left, left - granted, left) == left) return granted;
        }
    }

    private IOException Full()
    {
        Faults++;
        return new IOException("No space left on device (simulated)");
    }

    private sealed class DiskStream(Stream inner, FaultyCheckpointFiles disk) : Stream
    {
        public Stream Inner => inner;

        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => inner.CanWrite;
        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            int granted = disk.Reserve(buffer.Length);
            inner.Write(buffer[..granted]);
            if (granted < buffer.Length) throw disk.Full();
        }

        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => inner.SetLength(value);

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
