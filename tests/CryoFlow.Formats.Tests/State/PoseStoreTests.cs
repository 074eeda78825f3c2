using CryoFlow.Formats.Checkpoints;
using CryoFlow.Formats.State;
using CryoFlow.Numerics.Geometry;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.State;

public class PoseStoreTests
{
    [Fact]
    public void PosesSetAreReadBackAndOthersHaveNone()
    {
        using var dir = new TempDir();
        using var store = PoseStore.Create(dir.File("poses.bin"), 2000);
        for (int i = 0; i < 2000; i += 3) store.Set(i, Pose(i), i / 2000.0);
        for (int i = 0; i < 2000; i++)
        {
            bool has = store.TryGet(i, out var pose, out double p);
            Assert.Equal(i % 3 == 0, has);
            Assert.Equal(has ? Pose(i) : default, pose);
            Assert.Equal(has ? i / 2000.0 : 0, p);
        }
        store.Set(3, Pose(7), 0.5); // after a read cached its page
        Assert.True(store.TryGet(3, out var again, out double q));
        Assert.Equal((Pose(7), 0.5), (again, q));
    }

    [Fact]
    public void ASnapshotRestoresEveryRecordBitForBit()
    {
        using var dir = new TempDir();
        using var store = PoseStore.Create(dir.File("a.bin"), 1500);
        for (int i = 0; i < 1500; i += 2) store.Set(i, Pose(i), Math.PI / (i + 1));
        using (var s = File.Create(dir.File("poses.snap"))) store.Snapshot(s);
        using var back = PoseStore.Open(dir.File("poses.snap"), dir.File("b.bin"), 1500);
        Assert.Equal(File.ReadAllBytes(dir.File("a.bin")), File.ReadAllBytes(dir.File("b.bin")));
    }

    [Fact]
    public void ADamagedOrForeignSnapshotIsRefused()
    {
        using var dir = new TempDir();
        using var store = PoseStore.Create(dir.File("a.bin"), 100);
        store.Set(5, Pose(5), 0.25);
        using (var s = File.Create(dir.File("poses.snap"))) store.Snapshot(s);
        Assert.Throws<CheckpointFormatException>(() => PoseStore.VerifySnapshot(dir.File("poses.snap"), 101));
        var bytes = File.ReadAllBytes(dir.File("poses.snap"));
        bytes[32 + 5 * 56 + 9] ^= 1;
        File.WriteAllBytes(dir.File("flipped.snap"), bytes);
        Assert.Throws<CheckpointFormatException>(() => PoseStore.VerifySnapshot(dir.File("flipped.snap")));
        File.WriteAllBytes(dir.File("short.snap"), bytes[..^8]);
        Assert.Throws<CheckpointFormatException>(() => PoseStore.Open(dir.File("short.snap"), dir.File("b.bin"), 100));
    }

    [Fact]
    public void AGrownStoreKeepsItsPosesAndAddsEmptyOnes()
    {
        using var dir = new TempDir();
        using var store = PoseStore.Create(dir.File("a.bin"), 10);
        store.Set(9, Pose(9), 1);
        Assert.True(store.TryGet(9, out _, out _));
        store.Grow(25);
        Assert.True(store.TryGet(9, out var p, out _));
        Assert.Equal(Pose(9), p);
        Assert.False(store.TryGet(24, out _, out _));
        store.Set(24, Pose(24), 0.5);
        Assert.True(store.TryGet(24, out _, out _));
    }

    private static Pose Pose(int i) => new(new EulerAngles(i * 0.5, i % 180, -i), i * 0.25, -i * 0.125);
}
