using CryoFlow.Formats.State;

namespace CryoFlow.Formats.Tests.State;

public class StateHash64Tests
{
    [Fact]
    public void StreamedWordsEqualTheOneShotHash()
    {
        var data = new byte[4096];
        new Random(5).NextBytes(data);
        ulong h = StateHash64.Begin(9);
        h = StateHash64.AppendWords(h, data.AsSpan(0, 1024));
        h = StateHash64.AppendWords(h, data.AsSpan(1024));
        Assert.Equal(StateHash64.Compute(data, 9), StateHash64.Finish(h, data.Length));
    }

    [Fact]
    public void EverySingleBitFlipAndLengthChangeChangesTheHash()
    {
        var data = new byte[37];
        new Random(6).NextBytes(data);
        ulong h = StateHash64.Compute(data);
        for (int i = 0; i < data.Length * 8; i++)
        {
            data[i / 8] ^= (byte)(1 << (i % 8));
            Assert.NotEqual(h, StateHash64.Compute(data));
            data[i / 8] ^= (byte)(1 << (i % 8));
        }
        Assert.NotEqual(h, StateHash64.Compute(data.AsSpan(0, 36)));
        Assert.NotEqual(StateHash64.Compute([]), StateHash64.Compute([0]));
        Assert.NotEqual(StateHash64.Compute(data, 1), StateHash64.Compute(data, 2));
    }
}
