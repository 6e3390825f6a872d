using System.Text;
using Signet.Audit;
using Signet.Canonicalization;
using Signet.Core.Tests.Canonicalization;

namespace Signet.Core.Tests.Audit;

/// <summary>The byte path of a record line (TryHashRecord) against the tree path (TryParse + RecordHash).</summary>
public sealed class AuditRecordFormatTests
{
    private const string WellFormed = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("r\\udc00ecord_hash")] // found by the audit-line fuzz target: ValueTextEquals threw InvalidOperationException
    [InlineData("prev_hash\\ud800")]
    public void TryHashRecord_MemberNameEscapingLoneSurrogate_HandsOverToTheTreePathWithoutThrowing(string name)
    {
        var line = Encoding.UTF8.GetBytes($"{{\"receipt\":{{\"v\":1}},\"prev_hash\":\"{SignetHash.Genesis}\",\"{name}\":\"{WellFormed}\"}}");

        Assert.False(AuditRecordFormat.TryHashRecord(line, out _, out _, out _));
        var record = AuditRecordFormat.TryParse(line, out var error, out _);
        Assert.Null(record);
        Assert.Contains("lone surrogate", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryHashRecord_ReferenceWrittenLog_HashesEveryLineLikeTheTreePath()
    {
        var lines = Directory.GetFiles(SharedVectors.Path("vectors", "audit", "audit"), "*.jsonl")
            .SelectMany(File.ReadAllLines).Where(l => l.Trim().Length > 0).ToList();
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            Assert.True(AssertParity(Encoding.UTF8.GetBytes(line)), line);
        }
    }

    [Fact]
    public void TryHashRecord_RandomRecords_SameAsTreePath()
    {
        var random = new Random(4242);
        var hashed = 0;
        for (var i = 0; i < 2000; i++)
        {
            var generator = new JsonGenerator(random) { SafeNumbersOnly = random.Next(3) > 0 };
            var members = new List<string>
            {
                Member(generator, "receipt", generator.ObjectDocument()),
                Member(generator, "prev_hash", random.Next(10) == 0 ? "\"sha256:abc\"" : $"\"{(random.Next(2) == 0 ? SignetHash.Genesis : WellFormed)}\""),
                Member(generator, "record_hash", $"\"{WellFormed}\""),
            };
            if (random.Next(3) == 0)
            {
                members.Add(Member(generator, "meta", generator.Document())); // any value, unsafe integers included
            }
            var shuffled = members.OrderBy(_ => random.Next()).ToList();
            var line = "{" + generator.Space() + string.Join("," + generator.Space(), shuffled) + generator.Space() + "}";
            if (AssertParity(Encoding.UTF8.GetBytes(line)))
            {
                hashed++;
            }
        }
        // Unsafe integers in a third of the receipts and malformed prev_hash values send many lines over; the rest must not.
        Assert.True(hashed > 500, $"only {hashed} of 2000 lines were hashed on the byte path");
    }

    [Theory]
    [InlineData("""{"receipt":{"a":1},"prev_hash":"PREV","record_hash":"sha256:x","receipt":{"a":1}}""")]
    [InlineData("""{"receipt":{"a":1,"a":2},"prev_hash":"PREV","record_hash":"sha256:x"}""")]
    [InlineData("""{"receipt":{"a":1},"prev_hash":"PREV","record_hash":"sha256:x","m":1,"m":2}""")]
    [InlineData("""{"receipt":{"a":9007199254740993},"prev_hash":"PREV","record_hash":"sha256:x"}""")]
    [InlineData("""{"receipt":{"a":9007199254740993},"prev_hash":"PREV","record_hash":"sha256:x","m":1e400}""")]
    [InlineData("""{"receipt":{"a":1},"prev_hash":"PREV","record_hash":"sha256:x","m":"\ud800"}""")]
    [InlineData("""{"receipt":[1],"prev_hash":"PREV","record_hash":"sha256:x"}""")]
    [InlineData("""{"receipt":{"a":1},"prev_hash":7,"record_hash":"sha256:x"}""")]
    [InlineData("""{"receipt":{"a":1},"record_hash":"sha256:x"}""")]
    [InlineData("""{"receipt":{"a":1},"prev_hash":"PREV","record_hash":"sha256:x"} {}""")]
    [InlineData("""[{"receipt":{"a":1},"prev_hash":"PREV","record_hash":"sha256:x"}]""")]
    [InlineData("""{"receipt":{"a":1},"prev_hash":"PREV","record_hash":"sha256:x",}""")]
    [InlineData("""{"receipt":{"a":1},"prev_hash":"sha256:0","record_hash":"sha256:x"}""")]
    [InlineData("""{"rec\u0065ipt":{"a":1},"prev_hash":"PREV","receipt":{"b":2},"record_hash":"sha256:x"}""")]
    public void TryHashRecord_UnusualLine_HandsOverToTheTreePath(string template)
    {
        var line = Encoding.UTF8.GetBytes(template.Replace("PREV", SignetHash.Genesis, StringComparison.Ordinal));
        Assert.False(AuditRecordFormat.TryHashRecord(line, out _, out _, out _));
        AssertParity(line);
    }

    [Theory]
    [InlineData("""{"receipt":{"b":1,"a":[1.0,-0,1e21]},"prev_hash":"PREV","record_hash":"sha256:x","meta":{"n":9007199254740993}}""")]
    [InlineData("""{ "record_hash" : "sha256:x" , "meta":[] , "prev_hash":"PREV", "rec\u0065ipt" : {"\u00e9":"\n"} }""")]
    [InlineData("""{"receipt":{},"prev_hash":"PREV","record_hash":"sha256:x"}""")]
    public void TryHashRecord_OrdinaryLine_HashedOnTheBytePath(string template)
    {
        var line = Encoding.UTF8.GetBytes(template.Replace("PREV", SignetHash.Genesis, StringComparison.Ordinal));
        Assert.True(AssertParity(line));
    }

    private static string Member(JsonGenerator generator, string name, string value) =>
        $"\"{name}\"{generator.Space()}:{generator.Space()}{value}";

    /// <summary>
    /// When the byte path hashes a line, the tree path reads the same record and recomputes the same hash; when the
    /// tree path refuses a line (or the receipt has no canonical form), the byte path hands over. Returns whether the
    /// byte path hashed it.
    /// </summary>
    private static bool AssertParity(byte[] line)
    {
        var fast = AuditRecordFormat.TryHashRecord(line, out var prev, out var hash, out var recomputed);
        var record = AuditRecordFormat.TryParse(line, out _, out _);
        string? expected = null;
        if (record is not null)
        {
            try
            {
                expected = AuditRecordFormat.RecordHash(record.PrevHash, record.Receipt);
            }
            catch (CanonicalizationException)
            {
                record = null;
            }
        }
        var shown = Encoding.UTF8.GetString(line);
        if (record is null)
        {
            Assert.False(fast, $"byte path hashed a line the tree path refuses: {shown}");
            return false;
        }
        if (fast)
        {
            Assert.Equal(record.PrevHash, prev);
            Assert.Equal(record.RecordHash, hash);
            Assert.Equal(expected, recomputed);
        }
        else
        {
            // Only a prev_hash that is not well-formed (the escaping general form) may hand an accepted record over.
            Assert.False(SignetHash.IsWellFormed(record.PrevHash), $"byte path handed over an ordinary record: {shown}");
        }
        return fast;
    }
}
