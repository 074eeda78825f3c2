using CryoFlow.Formats.Checkpoints;
using CryoFlow.Formats.State;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Checkpoints;

/// <summary>Publishing checkpoints atomically, keeping the newest, and what a full disk or a failed rename leaves behind.</summary>
public class CheckpointFolderTests
{
    /// <summary>A checkpoint of two files: a 64 KiB blob and a checkpoint file naming the iteration.</summary>
    private static CheckpointEntry WriteSample(CheckpointFolder folder, long iteration) => folder.Write(iteration, draft =>
    {
        draft.Create("blob.bin").Write(new byte[64 << 10]);
        var w = new CheckpointWriter(draft.Create("checkpoint.bin"));
        w.AddText("meta", $"iteration {iteration}");
        w.Complete();
    });

    private static string Meta(CheckpointEntry entry) => CheckpointFile.Read(entry.File("checkpoint.bin")).Text("meta");

    private static string[] Entries(string root) => Directory.EnumerateFileSystemEntries(root).Select(Path.GetFileName).Order().ToArray()!;

    [Fact]
    public void CheckpointsAreListedNewestFirstAndPrunedToTheNewestKeepingThePinned()
    {
        using var dir = new TempDir();
        var folder = new CheckpointFolder(dir.File("checkpoints"));
        Assert.Empty(folder.List());
        foreach (long it in new long[] { 0, 5, 10, 15, 20 }) WriteSample(folder, it);
        Assert.Equal([20, 15, 10, 5, 0], folder.List().Select(c => c.Iteration));
        Assert.Equal("iteration 15", Meta(folder.List()[1]));

        var deleted = folder.Prune(2, c => c.Iteration == 0);
        Assert.Equal([10, 5], deleted.Select(c => c.Iteration));
        Assert.Equal([20, 15, 0], folder.List().Select(c => c.Iteration));
        Assert.Equal(["ckpt-00000000", "ckpt-00000015", "ckpt-00000020"], Entries(folder.Root));

        Assert.Equal([20], folder.DeleteAfter(15).Select(c => c.Iteration));
        Assert.Equal([15, 0], folder.List().Select(c => c.Iteration));
    }

    [Fact]
    public void WritingTheSameIterationAgainReplacesIt()
    {
        using var dir = new TempDir();
        var folder = new CheckpointFolder(dir.File("checkpoints"));
        WriteSample(folder, 7);
        var again = folder.Write(7, draft =>
        {
            var w = new CheckpointWriter(draft.Create("checkpoint.bin"));
            w.AddText("meta", "second");
            w.Complete();
        });
        Assert.Equal("second", Meta(again));
        Assert.False(File.Exists(again.File("blob.bin")));
        Assert.Equal(["ckpt-00000007"], Entries(folder.Root));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(40 << 10)]
    [InlineData((64 << 10) + 30)]
    public void ADiskFullWhileWritingLeavesThePreviousCheckpointIntactAndNoDebris(long bytesLeft)
    {
        using var dir = new TempDir();
        var disk = new FaultyCheckpointFiles();
        var folder = new CheckpointFolder(dir.File("checkpoints"), disk);
        var previous = WriteSample(folder, 10);
        byte[] before = File.ReadAllBytes(previous.File("checkpoint.bin"));

        disk.BytesLeft = bytesLeft;
        var e = Assert.Throws<CheckpointWriteException>(() => WriteSample(folder, 11));
        Assert.Equal(1, disk.Faults);
        Assert.Contains("No space left on device", e.Message);
        Assert.Contains("after iteration 11", e.Message);
        Assert.Contains($"The previous checkpoint ({previous.Path}, iteration 10) is intact", e.Message);
        Assert.Equal(previous, e.Previous);

        Assert.Equal([10], folder.List().Select(c => c.Iteration));
        Assert.Equal(["ckpt-00000010"], Entries(folder.Root));
        Assert.Equal(before, File.ReadAllBytes(previous.File("checkpoint.bin")));
        Assert.Equal("iteration 10", Meta(previous));

        disk.BytesLeft = long.MaxValue; // space freed: the next one goes through
        Assert.Equal("iteration 12", Meta(WriteSample(folder, 12)));
    }

    [Fact]
    public void AFailedRenameLeavesThePreviousCheckpointIntact()
    {
        using var dir = new TempDir();
        var disk = new FaultyCheckpointFiles();
        var folder = new CheckpointFolder(dir.File("checkpoints"), disk);
        WriteSample(folder, 3);
        disk.FailRenames = true;
        Assert.Throws<CheckpointWriteException>(() => WriteSample(folder, 4));
        Assert.Equal(["ckpt-00000003"], Entries(folder.Root));
        Assert.Equal("iteration 3", Meta(folder.List()[0]));
    }

    [Fact]
    public void TheDebrisOfAnInterruptedWriteIsNeverListedAndIsRemovedByTheNextWrite()
    {
        using var dir = new TempDir();
        var folder = new CheckpointFolder(dir.File("checkpoints"));
        WriteSample(folder, 1);
        // a process killed while writing the checkpoint of iteration 2 leaves its partial folder
        string partial = Path.Combine(folder.Root, ".partial-ckpt-00000002-0123");
        Directory.CreateDirectory(partial);
        File.WriteAllBytes(Path.Combine(partial, "checkpoint.bin"), [1, 2, 3]);
        Assert.Equal([1], folder.List().Select(c => c.Iteration));
        WriteSample(folder, 2);
        Assert.Equal(["ckpt-00000001", "ckpt-00000002"], Entries(folder.Root));
    }

    [Fact]
    public void AStateStoreSnapshotWrittenIntoAStreamEqualsOneWrittenToAPath()
    {
        using var dir = new TempDir();
        using var store = ParticleStateStore.Create(dir.File("work"), 50);
        for (int p = 0; p < 50; p += 3) store.Put(p, [(byte)p, 1, 2]);
        store.Put(3, [9]);
        var byPath = store.Snapshot(dir.File("a.snap"));
        using (var stream = File.Create(dir.File("b.snap")))
        {
            var byStream = store.Snapshot(stream, "b.snap");
            Assert.Equal(byPath.FileLength, byStream.FileLength);
            Assert.Equal(byPath.RecordCount, byStream.RecordCount);
            Assert.Equal(byPath.FileLength, stream.Position);
        }
        Assert.Equal(File.ReadAllBytes(dir.File("a.snap")), File.ReadAllBytes(dir.File("b.snap")));
        Assert.Throws<ArgumentException>(() => store.Snapshot(new MemoryStream([1]) { Position = 1 }, "x"));
    }
}
