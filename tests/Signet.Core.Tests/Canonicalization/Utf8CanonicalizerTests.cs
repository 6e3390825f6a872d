using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Signet.Canonicalization;

namespace Signet.Core.Tests.Canonicalization;

/// <summary>
/// The one canonicalizer, reached from UTF-8 text and from a <see cref="System.Text.Json.Nodes.JsonNode"/>: against the
/// reference's vectors, and the two entry points against each other (the tree is written out as text and canonicalized
/// by the same writer, so they must agree on every byte and on every error).
/// </summary>
public sealed class Utf8CanonicalizerTests
{
    private static readonly StrictJsonOptions ReferenceOptions = new() { DuplicateKeys = DuplicateKeyPolicy.LastWins, MaxDepth = 127 };

    public static TheoryData<string> VectorCases() => JcsVectorTests.Cases();

    [Theory]
    [MemberData(nameof(VectorCases))]
    public void Canonicalize_SharedVector_MatchesReferenceFromBothEntryPoints(string name)
    {
        var c = SharedVectors.Load("vectors", "jcs.json")["cases"]!.AsArray().Single(x => x!["name"]!.GetValue<string>() == name)!;
        var input = Encoding.UTF8.GetBytes(c["input"]!.GetValue<string>());
        AssertParity(input, ReferenceOptions);
        AssertParity(input, StrictJsonOptions.Default);
        if (c["error"] is not null)
        {
            Assert.ThrowsAny<SignetException>(() => JsonCanonicalizer.Canonicalize(input.AsSpan(), ReferenceOptions));
            return;
        }
        var canonical = JsonCanonicalizer.Canonicalize(input.AsSpan(), ReferenceOptions);
        Assert.Equal(c["canonical"]!.GetValue<string>(), Encoding.UTF8.GetString(canonical));
        Assert.Equal(c["sha256"]!.GetValue<string>(), SignetHash.Sha256(canonical));
        var tree = StrictJson.Parse(input, ReferenceOptions);
        Assert.Equal(c["canonical"]!.GetValue<string>(), JsonCanonicalizer.CanonicalizeToString(tree));
        Assert.Equal(c["sha256"]!.GetValue<string>(), JsonCanonicalizer.Sha256(tree));
    }

    [Fact]
    public void Canonicalize_RandomDocuments_SameFromBytesAndFromTree()
    {
        var random = new Random(8785);
        var accepted = 0;
        for (var i = 0; i < 3000; i++)
        {
            var text = new JsonGenerator(random).Document();
            if (AssertParity(Encoding.UTF8.GetBytes(text), StrictJsonOptions.Default))
            {
                accepted++;
            }
        }
        // Unsafe integers make some documents fail on both sides; most must get through, or the test proves little.
        Assert.True(accepted > 2000, $"only {accepted} of 3000 random documents were accepted");
    }

    [Fact]
    public void Canonicalize_RandomDocumentsWithRepeatedKeys_SameFromBytesAndFromTreeUnderBothPolicies()
    {
        var random = new Random(7493);
        for (var i = 0; i < 1000; i++)
        {
            // Safe numbers only: under last-wins an unsafe value that a later repeat replaces is never in the tree,
            // while the one-pass read of the bytes refuses it on sight (covered on its own below).
            var text = new JsonGenerator(random) { RepeatKeys = true, SafeNumbersOnly = true }.Document();
            var bytes = Encoding.UTF8.GetBytes(text);
            AssertParity(bytes, StrictJsonOptions.Default);
            AssertParity(bytes, ReferenceOptions);
        }
    }

    [Fact]
    public void Canonicalize_RandomDamage_SameErrorFromBytesAndFromTree()
    {
        var random = new Random(3629);
        string[] damage = ["\"\\ud800\"", "\"\\udc00x\"", "1e400", "-1e999", "9007199254740992", "-9007199254740992", "18446744073709551615",
            "[1,]", "{\"a\":1,}", "01", "\"\t\"", "'x'", "nul", "1.", ".5", "+1", "\"\\x41\"", "[", "}"];
        for (var i = 0; i < 1000; i++)
        {
            var text = new JsonGenerator(random).Document();
            var at = random.Next(text.Length + 1);
            // Splice a bad value where a value can go (after '[' or ':'), or anywhere at all.
            var colon = text.IndexOf(':', at);
            var spliced = colon >= 0 && random.Next(2) == 0
                ? string.Concat(text.AsSpan(0, colon + 1), damage[random.Next(damage.Length)], ",\"zz\":", text.AsSpan(colon + 1))
                : text.Insert(at, damage[random.Next(damage.Length)]);
            AssertParity(Encoding.UTF8.GetBytes(spliced), StrictJsonOptions.Default);
        }
    }

    [Theory]
    [InlineData("{\"a\":1,\"a\":2}")]
    [InlineData("{\"x\":{\"b\":1,\n\"b\":2}}")]
    [InlineData("{\"\\u0061\":1,\"a\":2}")]
    [InlineData("[\"\\ud83d\"]")]
    [InlineData("{\"\\udc00\":1}")]
    [InlineData("1e400")]
    [InlineData("[1,2,-1e309]")]
    [InlineData("{\"n\":9007199254740992}")]
    [InlineData("{\"n\":-9007199254740993}")]
    [InlineData("{\"n\":12345678901234567}")]
    [InlineData("{\"a\":[1,2,]}")]
    [InlineData("{\"a\":1} x")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\uFEFF{}")]
    [InlineData("{\"a\":1 /* c */}")]
    [InlineData("NaN")]
    public void Canonicalize_RefusedInput_SameErrorFromBytesAndFromTree(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Assert.False(AssertParity(bytes, StrictJsonOptions.Default));
    }

    [Theory]
    [InlineData(new byte[] { (byte)'"', 0xFF, (byte)'"' })]
    [InlineData(new byte[] { (byte)'"', 0xC0, 0x80, (byte)'"' })]
    [InlineData(new byte[] { (byte)'"', 0xED, 0xA0, 0x80, (byte)'"' })]
    [InlineData(new byte[] { (byte)'{', (byte)'"', 0xE2, 0x82, (byte)'"', (byte)':', (byte)'1', (byte)'}' })]
    [InlineData(new byte[] { (byte)'"', (byte)'\\', (byte)'n', 0xF4, 0x90, 0x80, 0x80, (byte)'"' })]
    public void Canonicalize_InvalidUtf8_SameOutcomeFromBytesAndFromTree(byte[] bytes)
    {
        Assert.False(AssertParity(bytes, StrictJsonOptions.Default));
        Assert.Equal(JsonParseErrorKind.InvalidUtf8, Assert.Throws<JsonParseException>(() => JsonCanonicalizer.Canonicalize(bytes.AsSpan())).Kind);
    }

    [Fact]
    public void Canonicalize_DuplicateKey_ReportsKeyLineAndPath()
    {
        var e = Assert.Throws<JsonParseException>(() => JsonCanonicalizer.Canonicalize("{\"a\":{\"b\":1,\n\"b\":2}}"u8));
        Assert.Contains("duplicate key \"b\"", e.Message);
        Assert.Equal(2, e.Line);
        Assert.Equal("$.a.b", e.Path);
    }

    [Fact]
    public void Canonicalize_UnsafeInteger_ThrowsCanonicalizationExceptionWithPath()
    {
        var e = Assert.Throws<CanonicalizationException>(() => JsonCanonicalizer.Canonicalize("{\"p\":{\"n\":[1,9007199254740992]}}"u8));
        Assert.Equal("$.p.n[1]", e.Path);
    }

    [Theory]
    [InlineData(127, true)]
    [InlineData(128, true)]
    [InlineData(129, false)]
    public void Canonicalize_Depth_SameLimitFromBytesAndFromTree(int depth, bool accepted)
    {
        var text = new string('[', depth) + new string(']', depth);
        Assert.Equal(accepted, AssertParity(Encoding.UTF8.GetBytes(text), StrictJsonOptions.Default));
        var objects = string.Concat(Enumerable.Repeat("{\"k\":", depth - 1)) + "{}" + new string('}', depth - 1);
        Assert.Equal(accepted, AssertParity(Encoding.UTF8.GetBytes(objects), StrictJsonOptions.Default));
    }

    [Fact]
    public void Canonicalize_KeysAroundTheSurrogateRange_SortByUtf16CodeUnits()
    {
        // U+E000..U+FFFF sort after astral characters in UTF-16 order, before them in code point (UTF-8) order.
        var canonical = JsonCanonicalizer.Canonicalize("{\"\uFB01\":1,\"\uD800\uDC00\":2,\"\u00E9\":3,\"\uFFFF\":4,\"\uD83D\uDE00\":5,\"a\":6,\"\":7}"u8.ToArray().AsSpan());
        Assert.Equal("{\"\":7,\"a\":6,\"\u00E9\":3,\"\uD800\uDC00\":2,\"\uD83D\uDE00\":5,\"\uFB01\":1,\"\uFFFF\":4}", Encoding.UTF8.GetString(canonical));
    }

    [Fact]
    public void Canonicalize_EscapedKeys_SortByDecodedText()
    {
        var input = "{\"a\\\\\":6,\"a\\\"b\":5,\"a!\":4,\"a\\n\":3,\"a\\u0001\":2,\"a\":1}"u8;
        Assert.Equal("{\"a\":1,\"a\\u0001\":2,\"a\\n\":3,\"a!\":4,\"a\\\"b\":5,\"a\\\\\":6}", Encoding.UTF8.GetString(JsonCanonicalizer.Canonicalize(input)));
        AssertParity(input.ToArray(), StrictJsonOptions.Default);
    }

    [Fact]
    public void Canonicalize_ManyMembers_SortedAndSameFromBytesAndFromTree()
    {
        var random = new Random(42);
        var keys = Enumerable.Range(0, 500).Select(i => $"k{random.Next():x}{i}").ToArray();
        var text = "{" + string.Join(",", keys.Select((k, i) => $"\"{k}\":{{\"i\":{i},\"z\":[{i},\"{k}\"],\"a\":null}}")) + "}";
        Assert.True(AssertParity(Encoding.UTF8.GetBytes(text), StrictJsonOptions.Default));
    }

    [Fact]
    public void Canonicalize_LastWinsOverUnsafeInteger_KeepsTheLastValue()
    {
        var input = "{\"n\":9007199254740993,\"n\":1}"u8.ToArray();
        Assert.Equal("{\"n\":1}", Encoding.UTF8.GetString(JsonCanonicalizer.Canonicalize(input.AsSpan(), ReferenceOptions)));
        Assert.Throws<JsonParseException>(() => JsonCanonicalizer.Canonicalize(input.AsSpan()));
    }

    [Fact]
    public void Canonicalize_BufferWriter_AppendsAndReturnsLength()
    {
        var output = new ArrayBufferWriter<byte>();
        output.Write("x"u8);
        var n = JsonCanonicalizer.Canonicalize(" { \"b\" : 1.50 , \"a\" : [ true , \"\\/\" ] } "u8, output);
        Assert.Equal("x{\"a\":[true,\"/\"],\"b\":1.5}", Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal(output.WrittenCount - 1, n);
    }

    [Fact]
    public void Canonicalize_BufferWriterOnError_WritesNothing()
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.Throws<JsonParseException>(() => JsonCanonicalizer.Canonicalize("{\"a\":1,\"a\":1}"u8, output));
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void CanonicalizeNode_FloatBuiltInCode_IsTheDoubleItWidensTo()
    {
        // 0.1f is the double 0.100000001490116119384765625, not 0.1: its shortest single-precision text would name another number.
        Assert.Equal("[0.10000000149011612,1.5]", JsonCanonicalizer.CanonicalizeToString(new JsonArray(0.1f, 1.5f)));
    }

    [Fact]
    public void CanonicalizeNode_ClrValuesBuiltInCode_WrittenAsBefore()
    {
        var node = new JsonObject
        {
            ["z"] = 'c',
            ["l"] = long.MinValue,
            ["d"] = 1e21,
            ["m"] = 1.50m,
            ["u"] = (ushort)7,
            ["t"] = new DateTime(2026, 12, 7, 17, 0, 0, DateTimeKind.Utc),
            ["s"] = "é\u0001\"\uD83D\uDE00",
            ["n"] = null,
            ["b"] = true,
        };
        Assert.Equal("{\"b\":true,\"d\":1e+21,\"l\":-9223372036854775808,\"m\":1.5,\"n\":null,\"s\":\"é\\u0001\\\"\uD83D\uDE00\",\"t\":\"12/07/2026 17:00:00\",\"u\":7,\"z\":\"c\"}",
            JsonCanonicalizer.CanonicalizeToString(node));
    }

    [Fact]
    public void CanonicalizeNode_TwoProblems_ReportsTheFirstInCanonicalOrder()
    {
        // Inserted b first: the error names a, which the canonical form would have written first.
        var node = new JsonObject { ["b"] = 9007199254740993L, ["a"] = new JsonArray(1, ulong.MaxValue) };
        var e = Assert.Throws<CanonicalizationException>(() => JsonCanonicalizer.Canonicalize(node));
        Assert.Equal("$.a[1]", e.Path);
        Assert.Contains("integer 18446744073709551615 at $.a[1] is not below 2^53", e.Message);
    }

    [Theory]
    [InlineData("value")]
    [InlineData("key")]
    [InlineData("char")]
    public void CanonicalizeNode_LoneSurrogate_RefusedWithPathNotReplaced(string where)
    {
        JsonNode node = where switch
        {
            "value" => new JsonObject { ["k"] = new JsonArray("ok", "a\uD800b") },
            "key" => new JsonObject { ["k"] = new JsonObject { ["x\uDC00"] = 1 } },
            _ => new JsonObject { ["k"] = new JsonArray(1, '\uD800') },
        };
        var e = Assert.Throws<CanonicalizationException>(() => JsonCanonicalizer.Sha256(node));
        Assert.StartsWith("lone surrogate U+D", e.Message);
        Assert.StartsWith("$.k", e.Path);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void CanonicalizeNode_NonFiniteDouble_Refused(double value)
    {
        var e = Assert.Throws<CanonicalizationException>(() => JsonCanonicalizer.Canonicalize(new JsonObject { ["x"] = value }));
        Assert.Equal("NaN and Infinity have no JSON form", e.Message);
        Assert.Throws<CanonicalizationException>(() => JsonCanonicalizer.Canonicalize(new JsonObject { ["x"] = (float)value }));
    }

    [Fact]
    public void CanonicalizeNode_ElementWithEscapedLoneSurrogate_RefusedWithPath()
    {
        // JsonNode.Parse (not the strict parser) keeps the escape; the canonical form has no way to write it.
        var node = JsonNode.Parse("{\"a\":[\"\\ud800\"]}");
        var e = Assert.Throws<CanonicalizationException>(() => JsonCanonicalizer.Canonicalize(node));
        Assert.Equal("$.a[0]", e.Path);
        Assert.Contains("not valid Unicode", e.Message);
    }

    [Fact]
    public void CanonicalizeNode_RefusedInsideAWriterInUse_AppendsNothing()
    {
        Assert.Throws<CanonicalizationException>(() => JsonCanonicalizer.Canonicalize(new JsonObject { ["a"] = new JsonArray(1, 2, 9007199254740992L) }));
        // The thread's writer is whole again: the next value is not mixed with what the refused one left.
        Assert.Equal("{\"a\":[1,2]}", JsonCanonicalizer.CanonicalizeToString(new JsonObject { ["a"] = new JsonArray(1, 2) }));
    }

    /// <summary>
    /// The text and the tree the strict parser makes of it give the same bytes, or both throw the same exception type
    /// with the same message. Returns whether it was accepted.
    /// </summary>
    private static bool AssertParity(byte[] input, StrictJsonOptions options)
    {
        byte[]? expected = null;
        Exception? expectedError = null;
        try
        {
            expected = JsonCanonicalizer.Canonicalize(StrictJson.Parse(input, options));
        }
        catch (SignetException e)
        {
            expectedError = e;
        }

        byte[]? actual = null;
        Exception? actualError = null;
        try
        {
            actual = JsonCanonicalizer.Canonicalize(input.AsSpan(), options);
        }
        catch (SignetException e)
        {
            actualError = e;
        }

        var shown = Encoding.UTF8.GetString(input);
        if (expectedError is null)
        {
            Assert.True(actualError is null, $"the bytes were refused, the tree accepted {shown}: {actualError?.Message}");
            Assert.Equal(Encoding.UTF8.GetString(expected!), Encoding.UTF8.GetString(actual!));
            Assert.Equal(expected, actual);
            return true;
        }
        Assert.True(actualError is not null, $"the bytes were accepted, the tree refused {shown}: {expectedError.Message}");
        Assert.Equal(expectedError.GetType(), actualError!.GetType());
        Assert.Equal(expectedError.Message, actualError.Message);
        return false;
    }
}
