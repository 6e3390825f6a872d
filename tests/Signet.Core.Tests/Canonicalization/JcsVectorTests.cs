using System.Text;
using System.Text.Json.Nodes;
using Signet.Canonicalization;

namespace Signet.Core.Tests.Canonicalization;

public sealed class JcsVectorTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in SharedVectors.Load("vectors", "jcs.json")["cases"]!.AsArray())
        {
            data.Add(c!["name"]!.GetValue<string>());
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Canonicalize_SharedVector_MatchesReference(string name)
    {
        var c = SharedVectors.Load("vectors", "jcs.json")["cases"]!.AsArray().Single(x => x!["name"]!.GetValue<string>() == name)!;
        var input = Encoding.UTF8.GetBytes(c["input"]!.GetValue<string>());
        // The reference parser keeps the last of repeated keys; the vectors record its behaviour.
        var options = new StrictJsonOptions { DuplicateKeys = DuplicateKeyPolicy.LastWins, MaxDepth = 127 };
        if (c["error"] is not null)
        {
            Assert.ThrowsAny<SignetException>(() => JsonCanonicalizer.CanonicalizeJson(input, options));
            return;
        }

        var canonical = JsonCanonicalizer.CanonicalizeJson(input, options);
        Assert.Equal(c["canonical"]!.GetValue<string>(), canonical);
        Assert.Equal(c["sha256"]!.GetValue<string>(), SignetHash.Sha256(Encoding.UTF8.GetBytes(canonical)));
    }

    [Fact]
    public void Parse_DuplicateKeyStrict_ReportsKeyAndPlace()
    {
        var e = Assert.Throws<JsonParseException>(() => StrictJson.Parse("{\"a\":{\"b\":1,\n\"b\":2}}"));
        Assert.Contains("duplicate key \"b\"", e.Message);
        Assert.Equal(2, e.Line);
        Assert.Equal("$.a.b", e.Path);
    }
}
