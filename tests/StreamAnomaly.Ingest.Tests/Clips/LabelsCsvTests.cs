using StreamAnomaly.Core.Data;
using StreamAnomaly.Ingest.Clips;

namespace StreamAnomaly.Ingest.Tests.Clips;

public sealed class LabelsCsvTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Write_then_Read_returns_the_same_labels_including_commas_quotes_and_line_breaks()
    {
        var labels = new[]
        {
            new FrameLabel(0, 0, "background"),
            new FrameLabel(1, 1, "dropped part, near \"tray\""),
            new FrameLabel(2, 1, "two\nlines"),
            new FrameLabel(3, 0, string.Empty),
        };
        var path = _temp.Combine("c.labels.csv");

        LabelsCsv.Write(path, labels);

        Assert.Equal(labels, LabelsCsv.Read(path));
    }

    [Fact]
    public void Write_starts_with_the_exact_header_line()
    {
        var path = _temp.Combine("c.labels.csv");

        LabelsCsv.Write(path, [new FrameLabel(0, 1, "a,b")]);

        Assert.Equal("frame,label,category\n0,1,\"a,b\"\n", File.ReadAllText(path));
    }

    [Fact]
    public void Write_rejects_frames_that_are_not_consecutive_from_zero()
    {
        Assert.Throws<ArgumentException>(() => LabelsCsv.Write(_temp.Combine("c.labels.csv"), [new FrameLabel(1, 0, "x")]));
    }

    [Fact]
    public void Read_of_a_header_only_file_returns_no_labels()
    {
        var path = _temp.Combine("c.labels.csv");
        File.WriteAllText(path, "frame,label,category\n");

        Assert.Empty(LabelsCsv.Read(path));
    }

    [Theory]
    [InlineData("", "empty file")]
    [InlineData("frame,label\n0,0\n", "header")]
    [InlineData("Frame,Label,Category\n0,0,x\n", "header")]
    [InlineData("frame,label,category\nzero,0,x\n", "frame 'zero'")]
    [InlineData("frame,label,category\n0,yes,x\n", "label 'yes' is not an integer")]
    [InlineData("frame,label,category\n0,2,x\n", "label 2 is not 0 or 1")]
    [InlineData("frame,label,category\n0,-1,x\n", "label -1 is not 0 or 1")]
    [InlineData("frame,label,category\n1,0,x\n", "frame 1 out of order")]
    [InlineData("frame,label,category\n0,0,x\n2,0,x\n", "frame 2 out of order")]
    [InlineData("frame,label,category\n0,0,x\n0,0,x\n", "frame 0 out of order")]
    [InlineData("frame,label,category\n0,0\n", "expected 3 fields")]
    [InlineData("frame,label,category\n0,0,x,y\n", "expected 3 fields")]
    public void Read_of_a_malformed_file_throws_naming_the_file_and_the_problem(string content, string problem)
    {
        var path = _temp.Combine("bad.labels.csv");
        File.WriteAllText(path, content);

        var ex = Assert.Throws<InvalidDataFileException>(() => LabelsCsv.Read(path));

        Assert.Equal(path, ex.Path);
        Assert.StartsWith(path + ": ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_of_a_missing_file_throws_naming_the_file()
    {
        var path = _temp.Combine("none.labels.csv");

        var ex = Assert.Throws<InvalidDataFileException>(() => LabelsCsv.Read(path));

        Assert.Equal(path, ex.Path);
    }
}
