using System.Text;
using FsCheck;
using FsCheck.Xunit;
using StreamAnomaly.Ingest.Cameras;

namespace StreamAnomaly.Ingest.Tests.Cameras;

public class MultipartJpegReaderTests
{
    // Bodies with CR, LF, dashes and part of the boundary inside, to catch naive splitting.
    private static readonly byte[][] Bodies =
    [
        [0xFF, 0xD8, 1, 2, 3, (byte)'\r', (byte)'\n', (byte)'-', (byte)'-', (byte)'c', (byte)'a', 0xFF, 0xD9],
        Encoding.ASCII.GetBytes("second body with camb and -- dashes"),
        [0xFF, 0xD8, 0, 0, 0, 0xFF, 0xD9],
    ];

    private static byte[] Stream(bool contentLength, string boundaryLine = "--camboundary", string newline = "\r\n", string preamble = "", bool closing = true)
    {
        var sb = new MemoryStream();
        void Write(string s) => sb.Write(Encoding.ASCII.GetBytes(s));
        Write(preamble);
        foreach (var body in Bodies)
        {
            Write(boundaryLine + newline + "Content-Type: image/jpeg" + newline);
            if (contentLength)
            {
                Write($"Content-Length: {body.Length}{newline}");
            }

            Write(newline);
            sb.Write(body);
            Write(newline);
        }

        if (closing)
        {
            Write(boundaryLine + "--" + newline);
        }

        return sb.ToArray();
    }

    private static List<byte[]> ReadAll(byte[] bytes, string? boundary = "camboundary", IReadOnlyList<int>? chunks = null)
    {
        var reader = new MultipartJpegReader(new ChunkedStream(bytes, chunks ?? [bytes.Length]), boundary);
        var parts = new List<byte[]>();
        while (Sync(reader.ReadPartAsync(CancellationToken.None)) is { } part)
        {
            parts.Add(part);
        }

        return parts;
    }

    /// <summary>The in-memory streams complete every read synchronously, so the parser does too.</summary>
    private static byte[]? Sync(ValueTask<byte[]?> pending)
    {
        Assert.True(pending.IsCompleted, "an in-memory read should complete synchronously");
        return pending.Result;
    }

    private static void AssertBodies(List<byte[]> parts)
    {
        Assert.Equal(Bodies.Length, parts.Count);
        for (var i = 0; i < Bodies.Length; i++)
        {
            Assert.Equal(Bodies[i], parts[i]);
        }
    }

    [Theory]
    [InlineData(true, "\r\n")]
    [InlineData(false, "\r\n")]
    [InlineData(true, "\n")]
    [InlineData(false, "\n")]
    public void Reads_every_part_with_or_without_content_length(bool contentLength, string newline) =>
        AssertBodies(ReadAll(Stream(contentLength, newline: newline)));

    [Theory]
    [InlineData("--camboundary", "camboundary")]
    [InlineData("camboundary", "camboundary")]
    [InlineData("--camboundary", "--camboundary")]
    [InlineData("camboundary", "--camboundary")]
    public void Tolerates_boundary_with_or_without_leading_dashes(string written, string declared)
    {
        AssertBodies(ReadAll(Stream(contentLength: true, boundaryLine: written), declared));
        AssertBodies(ReadAll(Stream(contentLength: false, boundaryLine: written), declared));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Skips_a_garbage_preamble(bool contentLength) =>
        AssertBodies(ReadAll(Stream(contentLength, preamble: "HTTP junk\r\n\r\n\u0001\u0002 camboundar y\r\n")));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Split_at_every_position_gives_the_same_parts(bool contentLength)
    {
        var bytes = Stream(contentLength);
        for (var split = 1; split < bytes.Length; split++)
        {
            AssertBodies(ReadAll(bytes, chunks: [split, bytes.Length - split]));
        }

        AssertBodies(ReadAll(bytes, chunks: Enumerable.Repeat(1, bytes.Length).ToArray()));
    }

    [Property(MaxTest = 300)]
    public bool Any_chunking_gives_the_same_parts(PositiveInt[] chunkSizes, bool contentLength, bool lfOnly)
    {
        var bytes = Stream(contentLength, newline: lfOnly ? "\n" : "\r\n", preamble: "pre\r\n");
        var chunks = chunkSizes.Select(c => (c.Get % 17) + 1).ToArray();
        var parts = ReadAll(bytes, chunks: chunks.Length == 0 ? null : chunks);
        return parts.Count == Bodies.Length && parts.Zip(Bodies).All(p => p.First.AsSpan().SequenceEqual(p.Second));
    }

    [Theory]
    [InlineData(true, "")]
    [InlineData(false, "junk line\r\n\r\n")]
    public void Without_a_declared_boundary_it_is_taken_from_the_first_dash_line(bool contentLength, string preamble)
    {
        var bytes = Stream(contentLength, preamble: preamble);
        AssertBodies(ReadAll(bytes, boundary: null));
        AssertBodies(ReadAll(bytes, boundary: null, chunks: [1]));
    }

    [Fact]
    public void Without_closing_boundary_the_last_part_without_length_is_dropped_but_with_length_is_kept()
    {
        Assert.Equal(Bodies.Length - 1, ReadAll(Stream(contentLength: false, closing: false)).Count);
        AssertBodies(ReadAll(Stream(contentLength: true, closing: false)));
    }

    [Fact]
    public void A_truncated_content_length_part_is_not_returned()
    {
        var bytes = Stream(contentLength: true, closing: false);
        var parts = ReadAll(bytes[..^5]);
        Assert.Equal(Bodies.Length - 1, parts.Count);
    }

    [Fact]
    public void A_part_over_the_limit_is_invalid_data()
    {
        var bytes = Encoding.ASCII.GetBytes("--b\r\n\r\n" + new string('x', 300_000));
        var reader = new MultipartJpegReader(new MemoryStream(bytes), "b", maxPartBytes: 100_000);
        var ex = Assert.Throws<InvalidDataException>(() => Sync(reader.ReadPartAsync(CancellationToken.None)));
        Assert.Contains("100000", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("multipart/x-mixed-replace;boundary=ffmpeg", "ffmpeg")]
    [InlineData("multipart/x-mixed-replace; boundary=\"--my boundary\"", "--my boundary")]
    [InlineData("Multipart/X-Mixed-Replace; Boundary=abc", "abc")]
    public void Boundary_is_read_from_the_content_type(string contentType, string expected) =>
        Assert.Equal(expected, MultipartJpegReader.BoundaryFromContentType(contentType));

    [Theory]
    [InlineData(null)]
    [InlineData("image/jpeg")]
    [InlineData("multipart/x-mixed-replace")]
    [InlineData("multipart/x-mixed-replace; boundary=--")]
    public void Content_type_without_a_multipart_boundary_is_rejected(string? contentType) =>
        Assert.Throws<InvalidDataException>(() => MultipartJpegReader.BoundaryFromContentType(contentType));

    /// <summary>A read-only stream that hands out its bytes in the given chunk sizes (cycled).</summary>
    private sealed class ChunkedStream(byte[] bytes, IReadOnlyList<int> chunks) : Stream
    {
        private int _position;
        private int _chunk;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, chunks[_chunk++ % chunks.Count]), bytes.Length - _position);
            Array.Copy(bytes, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = Math.Min(Math.Min(buffer.Length, chunks[_chunk++ % chunks.Count]), bytes.Length - _position);
            bytes.AsSpan(_position, n).CopyTo(buffer.Span);
            _position += n;
            return ValueTask.FromResult(n);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
