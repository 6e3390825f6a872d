using System.Text;
using Signet.Audit;
using Signet.Canonicalization;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Core.Tests.Canonicalization;

/// <summary>Invalid UTF-8 anywhere in the text is refused by every parser and canonicalizer path, with its byte offset.</summary>
public sealed class InvalidUtf8Tests
{
    /// <summary>Ill-formed sequences (Unicode 15 §3.9, table 3-7): each is put inside a string and outside one.</summary>
    public static TheoryData<string, byte[]> Sequences() => new()
    {
        { "stray 0xFF", [0xFF] },
        { "stray 0xFE", [0xFE] },
        { "lone continuation 0x80", [0x80] },
        { "lone continuation 0xBF", [0xBF] },
        { "overlong slash C0 AF", [0xC0, 0xAF] },
        { "overlong NUL C1 80", [0xC1, 0x80] },
        { "overlong 3-byte E0 80 AF", [0xE0, 0x80, 0xAF] },
        { "overlong 4-byte F0 80 80 AF", [0xF0, 0x80, 0x80, 0xAF] },
        { "encoded high surrogate ED A0 80", [0xED, 0xA0, 0x80] },
        { "encoded low surrogate ED BF BF", [0xED, 0xBF, 0xBF] },
        { "above U+10FFFF F4 90 80 80", [0xF4, 0x90, 0x80, 0x80] },
        { "F5 lead", [0xF5, 0x80, 0x80, 0x80] },
        { "truncated 2-byte C3", [0xC3] },
        { "truncated 3-byte E2 82", [0xE2, 0x82] },
        { "truncated 4-byte F0 9F 98", [0xF0, 0x9F, 0x98] },
        { "lead then ASCII C3 41", [0xC3, 0x41] },
    };

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Parse_InvalidSequenceInString_ThrowsInvalidUtf8WithOffset(string name, byte[] sequence)
    {
        _ = name;
        var prefix = "{\"id\":\"z"u8.ToArray();
        var json = Concat(prefix, sequence, "\"}"u8.ToArray());

        var e = Assert.Throws<JsonParseException>(() => StrictJson.Parse(json));

        Assert.Equal(JsonParseErrorKind.InvalidUtf8, e.Kind);
        Assert.Equal(prefix.Length, e.ByteOffset);
        Assert.Equal(1, e.Line);
        Assert.Equal(prefix.Length + 1, e.Column);
        Assert.Contains("invalid UTF-8", e.Message, StringComparison.Ordinal);
        Assert.Contains($"byte offset {prefix.Length}", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Parse_InvalidSequenceOutsideString_ThrowsInvalidUtf8WithOffset(string name, byte[] sequence)
    {
        _ = name;
        var prefix = "{\"a\":1,\n "u8.ToArray();
        var json = Concat(prefix, sequence, "\"b\":2}"u8.ToArray());

        var e = Assert.Throws<JsonParseException>(() => StrictJson.Parse(json));

        Assert.Equal(JsonParseErrorKind.InvalidUtf8, e.Kind);
        Assert.Equal(prefix.Length, e.ByteOffset);
        Assert.Equal(2, e.Line);
        Assert.Equal(2, e.Column);
    }

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Canonicalize_InvalidSequence_BothPathsThrowTheParsersError(string name, byte[] sequence)
    {
        _ = name;
        foreach (var json in new[]
        {
            Concat("{\"k\":\"a"u8.ToArray(), sequence, "\"}"u8.ToArray()),
            Concat("{\"k"u8.ToArray(), sequence, "\":1}"u8.ToArray()),
            Concat("[\"\\n"u8.ToArray(), sequence, "\"]"u8.ToArray()), // an escaped string
        })
        {
            var fromBytes = Assert.Throws<JsonParseException>(() => JsonCanonicalizer.Canonicalize(json.AsSpan()));
            var fromText = Assert.Throws<JsonParseException>(() => JsonCanonicalizer.CanonicalizeJson(json));
            var parsed = Assert.Throws<JsonParseException>(() => StrictJson.Parse(json));
            Assert.Equal(JsonParseErrorKind.InvalidUtf8, fromBytes.Kind);
            Assert.Equal(parsed.Message, fromBytes.Message);
            Assert.Equal(parsed.Message, fromText.Message);
        }
    }

    [Fact]
    public void Parse_ValidMultibyteText_Accepted()
    {
        var json = "{\"k\":\"é € 😀 \\u00e9\"}"u8.ToArray();
        Assert.Equal("é € 😀 é", StrictJson.Parse(json)!["k"]!.GetValue<string>());
        Assert.Equal("{\"k\":\"é € 😀 é\"}", JsonCanonicalizer.CanonicalizeJson(json));
    }

    [Fact]
    public void Parse_StringWithLoneSurrogate_ThrowsLoneSurrogateInsteadOfReplacing()
    {
        var e = Assert.Throws<JsonParseException>(() => StrictJson.Parse("{\"k\":\"a\uD800\"}"));
        Assert.Equal(JsonParseErrorKind.LoneSurrogate, e.Kind);
        Assert.Equal(7, e.ByteOffset);
    }

    [Fact]
    public void Parse_EscapedLoneSurrogate_StillReportedAsLoneSurrogate()
    {
        var e = Assert.Throws<JsonParseException>(() => StrictJson.Parse("{\"k\":\"\\ud800\"}"u8));
        Assert.Equal(JsonParseErrorKind.LoneSurrogate, e.Kind);
    }

    [Fact]
    public void Verify_ReceiptWithInvalidUtf8_InvalidNamingOffset()
    {
        using var key = SigningKey.Generate();
        var receipt = new ReceiptSigner(key, "agent", "", TimeProvider.System)
            .SignRequest(new ReceiptAction { Tool = "t", Params = new System.Text.Json.Nodes.JsonObject { ["q"] = "zz" }, Target = "mcp://x" });
        var bytes = Encoding.UTF8.GetBytes(receipt.ToJsonString());
        var at = bytes.AsSpan().IndexOf("\"zz\""u8) + 2;
        bytes[at] = 0xFF;

        var result = ReceiptVerifier.Verify(bytes);

        Assert.False(result.IsValid);
        Assert.Contains("invalid UTF-8", result.Reason, StringComparison.Ordinal);
        Assert.Contains($"byte offset {at}", result.Reason, StringComparison.Ordinal);
        Assert.Throws<JsonParseException>(() => Receipt.Parse(bytes));
    }

    [Fact]
    public void TryParse_RecordLineWithInvalidUtf8_ErrorNamesOffsetNotSurrogate()
    {
        var line = "{\"receipt\":{\"id\":\"z?\"},\"prev_hash\":\"x\",\"record_hash\":\"y\"}"u8.ToArray();
        var at = Array.IndexOf(line, (byte)'?');
        line[at] = 0xFF;

        Assert.False(AuditRecordFormat.TryHashRecord(line, out _, out _, out _));
        var record = AuditRecordFormat.TryParse(line, out var error, out var duplicate);

        Assert.Null(record);
        Assert.False(duplicate);
        Assert.Equal($"invalid JSON at byte offset {at} of the line: invalid UTF-8 (byte 0xFF); the text must be UTF-8", error);
    }

    [Fact]
    public void ParsePublic_KeyFileWithInvalidUtf8_NamesLineAndOffset()
    {
        var bytes = "{\"v\":1,\n\"name\":\"p?\"}"u8.ToArray();
        bytes[Array.IndexOf(bytes, (byte)'?')] = 0xFF;

        var e = Assert.Throws<KeyStoreException>(() => KeyFile.ParsePublic(bytes, m => new KeyStoreException("peer.pub: " + m)));

        Assert.Contains("line 2, column 10, byte offset 17 (invalid UTF-8 (byte 0xFF)", e.Message, StringComparison.Ordinal);
    }
}
