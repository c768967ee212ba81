using Confluent.Kafka;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StreamAnomaly.Core.Streaming;
using StreamAnomaly.Ingest.Kafka;

namespace StreamAnomaly.Ingest.Tests.Kafka;

public sealed class FrameHeadersTests
{
    [Property(Arbitrary = [typeof(FrameMetadataArbitrary)])]
    public bool Write_then_TryRead_gives_back_the_metadata(FrameMetadata metadata)
    {
        var ok = FrameHeaders.TryRead(FrameHeaders.Write(metadata), out var read, out var reason, out var detail);
        return ok && read == metadata && reason.Length == 0 && detail.Length == 0;
    }

    [Theory]
    [InlineData(FrameHeaders.SchemaVersion)]
    [InlineData(FrameHeaders.Camera)]
    [InlineData(FrameHeaders.Line)]
    [InlineData(FrameHeaders.Sequence)]
    [InlineData(FrameHeaders.CaptureTime)]
    [InlineData(FrameHeaders.Width)]
    [InlineData(FrameHeaders.Height)]
    [InlineData(FrameHeaders.Codec)]
    public void A_missing_header_is_missing_header_naming_it(string name)
    {
        var headers = FrameHeaders.Write(Valid);
        headers.Remove(name);

        Assert.False(FrameHeaders.TryRead(headers, out _, out var reason, out var detail));
        Assert.Equal(DeadLetterReasons.MissingHeader, reason);
        Assert.Equal($"header '{name}' is missing", detail);
    }

    [Fact]
    public void No_headers_at_all_is_missing_header()
    {
        Assert.False(FrameHeaders.TryRead(null, out _, out var reason, out _));
        Assert.Equal(DeadLetterReasons.MissingHeader, reason);
    }

    [Theory]
    [InlineData(FrameHeaders.SchemaVersion, "one")]
    [InlineData(FrameHeaders.Camera, "cam a")]
    [InlineData(FrameHeaders.Camera, "")]
    [InlineData(FrameHeaders.Line, "line/1")]
    [InlineData(FrameHeaders.Sequence, "-1")]
    [InlineData(FrameHeaders.Sequence, "12x")]
    [InlineData(FrameHeaders.Sequence, "99999999999999999999")]
    [InlineData(FrameHeaders.CaptureTime, "2026-01-01T00:00:00Z")]
    [InlineData(FrameHeaders.CaptureTime, "253402300800000")]
    [InlineData(FrameHeaders.Width, "0")]
    [InlineData(FrameHeaders.Width, "1e3")]
    [InlineData(FrameHeaders.Height, "-48")]
    [InlineData(FrameHeaders.Height, " 48")]
    public void A_malformed_header_is_malformed_header_naming_it(string name, string value)
    {
        var headers = Replace(FrameHeaders.Write(Valid), name, System.Text.Encoding.UTF8.GetBytes(value));

        Assert.False(FrameHeaders.TryRead(headers, out _, out var reason, out var detail));
        Assert.Equal(DeadLetterReasons.MalformedHeader, reason);
        Assert.Contains($"'{name}'", detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_that_is_not_UTF8_is_malformed()
    {
        var headers = Replace(FrameHeaders.Write(Valid), FrameHeaders.Camera, [0xC3, 0x28]);

        Assert.False(FrameHeaders.TryRead(headers, out _, out var reason, out var detail));
        Assert.Equal(DeadLetterReasons.MalformedHeader, reason);
        Assert.Equal("header 'camera' is not UTF-8 (2 bytes)", detail);
    }

    [Theory]
    [InlineData(FrameHeaders.SchemaVersion, "2", "schema version 2 is not supported (this build reads 1)")]
    [InlineData(FrameHeaders.Codec, "png", "codec 'png' is not supported (only 'jpeg')")]
    public void Another_schema_version_or_codec_is_unsupported_schema(string name, string value, string expectedDetail)
    {
        var headers = Replace(FrameHeaders.Write(Valid), name, System.Text.Encoding.UTF8.GetBytes(value));

        Assert.False(FrameHeaders.TryRead(headers, out _, out var reason, out var detail));
        Assert.Equal(DeadLetterReasons.UnsupportedSchema, reason);
        Assert.Equal(expectedDetail, detail);
    }

    [Fact]
    public void The_schema_version_is_checked_before_the_other_headers()
    {
        var headers = new Headers();
        FrameHeaders.Add(headers, FrameHeaders.SchemaVersion, "7");

        Assert.False(FrameHeaders.TryRead(headers, out _, out var reason, out _));
        Assert.Equal(DeadLetterReasons.UnsupportedSchema, reason);
    }

    [Fact]
    public void Write_refuses_metadata_the_reader_would_refuse()
    {
        Assert.Throws<ArgumentException>(() => FrameHeaders.Write(Valid with { Camera = "cam a" }));
        Assert.Throws<ArgumentException>(() => FrameHeaders.Write(Valid with { Sequence = -1 }));
        Assert.Throws<ArgumentException>(() => FrameHeaders.Write(Valid with { Width = 0 }));
        Assert.Throws<ArgumentException>(() => FrameHeaders.Write(Valid with { Codec = "png" }));
    }

    private static FrameMetadata Valid => new("cam-a", "line-1", 42, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), 64, 48);

    private static Headers Replace(Headers headers, string name, byte[] value)
    {
        headers.Remove(name);
        headers.Add(name, value);
        return headers;
    }
}

/// <summary>Valid frame metadata: ids from the id alphabet, any sequence and size, millisecond UTC times of years 1..9999.</summary>
public static class FrameMetadataArbitrary
{
    private const string IdAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";

    public static Arbitrary<FrameMetadata> FrameMetadata() =>
        (from camera in IdGen()
         from line in IdGen()
         from sequence in Gen.Choose(0, int.MaxValue).Select(v => ((long)v * 2_147_483_648L) + v)
         from thousandSeconds in Gen.Choose(-62_135_596, 253_402_300)
         from millis in Gen.Choose(0, 799_999)
         from width in Gen.Choose(1, 100_000)
         from height in Gen.Choose(1, 100_000)
         select new Core.Streaming.FrameMetadata(camera, line, sequence, DateTimeOffset.FromUnixTimeMilliseconds((thousandSeconds * 1_000_000L) + millis), width, height))
        .ToArbitrary();

    private static Gen<string> IdGen() =>
        from length in Gen.Choose(1, Ids.MaxLength)
        from chars in Gen.ArrayOf(Gen.Elements(IdAlphabet.ToCharArray()), length)
        select new string(chars);
}
