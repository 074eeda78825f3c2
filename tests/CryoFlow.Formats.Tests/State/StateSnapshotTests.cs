using CryoFlow.Formats.State;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.State;

/// <summary>Snapshot -> Open round trips, corruption and truncation detected with file and offset, crash safety.</summary>
public class StateSnapshotTests
{
    private const int N = 3000;

    private static ParticleStateStore Filled(string dir, int version = 1)
    {
        var store = ParticleStateStore.Create(dir, N);
        for (int p = 0; p < N; p++)
            if (p % 5 != 0) store.Put(p, StateRecords.For(p, version));
        for (int p = 0; p < N; p += 3) store.Put(p, StateRecords.For(p, version + 100)); // overwrites: garbage in the log
        return store;
    }

    private static void AssertSameContents(ParticleStateStore expected, ParticleStateStore actual)
    {
        Assert.Equal(expected.ParticleCount, actual.ParticleCount);
        Assert.Equal(expected.RecordCount, actual.RecordCount);
        for (long p = 0; p < expected.ParticleCount; p++)
        {
            Assert.Equal(expected.Get(p), actual.Get(p));
            Assert.Equal(expected.GetGeneration(p), actual.GetGeneration(p));
        }
    }

    [Fact]
    public void OpenedSnapshotEqualsTheStoreAndKeepsWorking()
    {
        using var dir = new TempDir();
        using var store = Filled(dir.File("work"));
        var info = store.Snapshot(dir.File("ckpt/is.state"));
        Assert.Equal(store.RecordCount, info.RecordCount);
        Assert.Equal(new FileInfo(info.Path).Length, info.FileLength);
        Assert.Equal(info, ParticleStateStore.VerifySnapshot(info.Path));

        using var restored = ParticleStateStore.Open(info.Path, dir.File("resumed"));
        AssertSameContents(store, restored);
        Assert.Equal(0, restored.Memory().GarbageBytes);

        // A resumed store takes puts and snapshots like a fresh one, and its snapshot is the same file.
        restored.Snapshot(dir.File("again.state"));
        Assert.Equal(File.ReadAllBytes(info.Path), File.ReadAllBytes(dir.File("again.state")));
        restored.Put(7, [9, 9, 9]);
        Assert.Equal([9, 9, 9], restored.Get(7));
        Assert.NotEqual(store.Get(7), restored.Get(7));
    }

    [Fact]
    public void EveryFlippedByteIsDetectedWithFileAndOffset()
    {
        using var dir = new TempDir();
        string path = dir.File("s.state");
        using (var small = ParticleStateStore.Create(dir.File("w"), 40))
        {
            for (int p = 0; p < 40; p += 2) small.Put(p, new byte[] { (byte)p, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 });
            small.Snapshot(path);
        }
        byte[] good = File.ReadAllBytes(path);
        for (int offset = 0; offset < good.Length; offset++)
        {
            byte[] bad = (byte[])good.Clone();
            bad[offset] ^= 0x20;
            File.WriteAllBytes(path, bad);
            var ex = Assert.Throws<StateStoreFormatException>(() => ParticleStateStore.VerifySnapshot(path));
            Assert.Equal(path, ex.FilePath);
            Assert.NotNull(ex.Where.ByteOffset);
            Assert.Contains(path, ex.Message);
        }
    }

    [Fact]
    public void AFlippedPayloadByteNamesTheRecordAndItsOffset()
    {
        using var dir = new TempDir();
        string path = dir.File("s.state");
        using (var store = ParticleStateStore.Create(dir.File("w"), 10))
        {
            store.Put(2, new byte[100]);
            store.Put(5, new byte[200]);
            store.Snapshot(path);
        }
        long record5 = 64 + 24 + 100;
        byte[] bytes = File.ReadAllBytes(path);
        bytes[record5 + 24 + 150] ^= 1;
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<StateStoreFormatException>(() => ParticleStateStore.Open(path, dir.File("r")));
        Assert.Equal(record5, ex.Where.ByteOffset);
        Assert.Equal(5, ex.Where.Record);
        Assert.False(File.Exists(Path.Combine(dir.File("r"), "data.log")), "a failed restore leaves no working files");
    }

    [Fact]
    public void TruncationAtAnyOffsetIsDetected()
    {
        using var dir = new TempDir();
        string path = dir.File("s.state");
        using (var store = Filled(dir.File("w")))
            store.Snapshot(path);
        byte[] good = File.ReadAllBytes(path);
        var rng = new Random(3);
        var cuts = new List<int> { 0, 1, 63, 64, 65, 64 + 24, good.Length / 2, good.Length - 32, good.Length - 1 };
        for (int i = 0; i < 20; i++) cuts.Add(rng.Next(good.Length));
        foreach (int cut in cuts)
        {
            File.WriteAllBytes(path, good.AsSpan(0, cut).ToArray());
            var ex = Assert.Throws<StateStoreFormatException>(() => ParticleStateStore.VerifySnapshot(path));
            Assert.Equal(path, ex.FilePath);
            Assert.Equal(cut, ex.Where.ByteOffset);
            Assert.Contains("truncated", ex.Message);
        }
        File.WriteAllBytes(path, [.. good, 0]);
        Assert.Equal(good.Length, Assert.Throws<StateStoreFormatException>(() => ParticleStateStore.VerifySnapshot(path)).Where.ByteOffset);
    }

    [Fact]
    public void ACrashWhileWritingASnapshotLeavesThePreviousOneValid()
    {
        using var dir = new TempDir();
        string path = dir.File("is.state");
        using var store = Filled(dir.File("w"));
        store.Snapshot(path);
        byte[] first = File.ReadAllBytes(path);

        // What a kill during the next snapshot leaves behind: the new state half-written under a temporary name.
        for (int p = 0; p < N; p += 2) store.Put(p, StateRecords.For(p, 7));
        store.Snapshot(dir.File("next.state"));
        byte[] next = File.ReadAllBytes(dir.File("next.state"));
        File.WriteAllBytes(path + ".tmp-deadbeef0000", next.AsSpan(0, next.Length / 2).ToArray());

        Assert.Equal(first, File.ReadAllBytes(path));
        using (var resumed = ParticleStateStore.Open(path, dir.File("r1")))
            Assert.Equal(StateRecords.For(3, 101), resumed.Get(3));
        Assert.Throws<StateStoreFormatException>(() => ParticleStateStore.VerifySnapshot(path + ".tmp-deadbeef0000"));

        // The next snapshot to the same path clears the leftover and replaces the file whole.
        store.Snapshot(path);
        Assert.False(File.Exists(path + ".tmp-deadbeef0000"));
        Assert.Equal(next, File.ReadAllBytes(path));
        using var latest = ParticleStateStore.Open(path, dir.File("r2"));
        AssertSameContents(store, latest);
    }

    [Fact]
    public void AFailedSnapshotLeavesNoTemporaryFileAndThePreviousSnapshot()
    {
        using var dir = new TempDir();
        string path = dir.File("is.state");
        using var store = Filled(dir.File("w"));
        store.Snapshot(path);
        byte[] first = File.ReadAllBytes(path);
        store.Put(1, [1, 2, 3]);
        // Corrupt the working log under particle 1's new record: the snapshot refuses to copy it.
        long offset = store.Memory().DataFileBytes - 3;
        using (var f = new FileStream(store.DataPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            f.Position = offset;
            f.WriteByte(0x55);
        }
        Assert.Throws<StateStoreFormatException>(() => store.Snapshot(path));
        Assert.Equal(first, File.ReadAllBytes(path));
        Assert.Empty(Directory.GetFiles(dir.Path, "is.state.tmp-*"));
    }

    [Fact]
    public void RejectsAFileThatIsNotASnapshot()
    {
        using var dir = new TempDir();
        string path = dir.File("x.state");
        File.WriteAllBytes(path, new byte[200]);
        var ex = Assert.Throws<StateStoreFormatException>(() => ParticleStateStore.VerifySnapshot(path));
        Assert.Equal(0, ex.Where.ByteOffset);
        Assert.Contains("magic", ex.Message);
    }
}
