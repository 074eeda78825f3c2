using CryoFlow.Formats.CryoSparc;
using CryoFlow.Formats.Errors;

namespace CryoFlow.Formats.Tests.CryoSparc;

public class PyLiteralTests
{
    [Fact]
    public void ParsesANumpyHeaderDict()
    {
        var d = Assert.IsType<Dictionary<string, object?>>(PyLiteral.Parse(
            "{'descr': [('uid', '<u8'), ('blob/path', '|S89'), (\"alignments3D/pose\", '<f4', (3,))], 'fortran_order': False, 'shape': (7,), }"));
        Assert.Equal(false, d["fortran_order"]);
        Assert.Equal(new object?[] { 7L }, d["shape"]);
        var descr = Assert.IsType<List<object?>>(d["descr"]);
        Assert.Equal(new object?[] { "uid", "<u8" }, descr[0]);
        Assert.Equal(new object?[] { "alignments3D/pose", "<f4", new object?[] { 3L } }, descr[2]);
    }

    [Fact]
    public void ParenthesesWithoutACommaAreNotATuple()
    {
        Assert.Equal(3L, PyLiteral.Parse("(3)"));
        Assert.Equal(new object?[] { 3L }, PyLiteral.Parse("(3,)"));
        Assert.Equal(Array.Empty<object?>(), PyLiteral.Parse("()"));
        Assert.Equal(new object?[] { 2L, 3L }, PyLiteral.Parse("(2, 3)"));
    }

    [Fact]
    public void ReadsEscapesPrefixesAndConstants()
    {
        Assert.Equal("a'b\\c\x41", PyLiteral.Parse(@"'a\'b\\c\x41'"));
        Assert.Equal("x", PyLiteral.Parse("u'x'"));
        Assert.Equal("y", PyLiteral.Parse("b\"y\""));
        Assert.Equal(new List<object?> { true, null, -5L, 12L }, PyLiteral.Parse("[True, None, -5, 12L]"));
    }

    [Theory]
    [InlineData("{'a': 1")]
    [InlineData("{'a' 1}")]
    [InlineData("{1: 2}")]
    [InlineData("'unterminated")]
    [InlineData("[1, 2] extra")]
    [InlineData("os.system('x')")]
    [InlineData("")]
    [InlineData("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]")]
    public void GarbageIsATypedError(string text)
    {
        var e = Assert.Throws<CryoSparcFormatException>(() => PyLiteral.Parse(text, "f.cs", 10));
        Assert.Contains("f.cs", e.Message);
        Assert.NotNull(e.Where.ByteOffset);
    }
}
