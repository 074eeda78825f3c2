using CryoFlow.Formats.Star;

namespace CryoFlow.Formats.Tests.Star;

/// <summary>Document equality as the round-trip tests mean it: same blocks, pairs, columns, order and values as text.</summary>
internal static class StarAssert
{
    public static void SameContent(StarDocument expected, StarDocument actual, bool compareVersion = true)
    {
        if (compareVersion) Assert.Equal(expected.Version, actual.Version);
        Assert.Equal(expected.Blocks.Select(b => b.Name), actual.Blocks.Select(b => b.Name));
        for (int i = 0; i < expected.Blocks.Count; i++) SameContent(expected.Blocks[i], actual.Blocks[i]);
    }

    public static void SameContent(StarBlock expected, StarBlock actual)
    {
        Assert.Equal(expected.Pairs.Select(p => (p.Label, p.Value)), actual.Pairs.Select(p => (p.Label, p.Value)));
        Assert.Equal(expected.Loop is null, actual.Loop is null);
        if (expected.Loop is { } e) SameContent(e, actual.Loop!);
    }

    public static void SameContent(StarTable expected, StarTable actual)
    {
        Assert.Equal(expected.Labels, actual.Labels);
        Assert.Equal(expected.RowCount, actual.RowCount);
        for (int r = 0; r < expected.RowCount; r++)
            for (int c = 0; c < expected.ColumnCount; c++)
                if (expected.GetString(r, c) != actual.GetString(r, c))
                    Assert.Fail($"data_{expected.BlockName} row {r} _{expected.Label(c)}: expected '{expected.GetString(r, c)}', found '{actual.GetString(r, c)}'");
    }
}
