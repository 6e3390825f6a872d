using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Canonicalization;
using Signet.Receipts;

namespace Signet.Core.Tests.Receipts;

/// <summary>
/// The direct signable writer against the plain statement of the rules (<see cref="SignableOracle"/>): same bytes for
/// every receipt in the shared vectors and fixtures, and for thousands of broken variants, the same first error.
/// </summary>
public class SignableTests
{
    [Fact]
    public void Write_EveryVectorReceipt_MatchesOracleAndReferenceSignable()
    {
        var receipts = VectorReceipts().ToList();
        Assert.True(receipts.Count > 60, $"only {receipts.Count} receipts found in the shared vectors");
        foreach (var (where, receipt) in receipts)
        {
            AssertSame(where, receipt);
        }

        // Where the reference wrote down the signable it signed, ours is byte for byte the same.
        var compared = 0;
        foreach (var file in Directory.GetFiles(SharedVectors.Path("vectors"), "v*.json"))
        {
            var vector = SharedVectors.Load("vectors", Path.GetFileName(file));
            if (vector["signable"] is JsonValue signable && signable.GetValueKind() == JsonValueKind.String
                && vector["receipt"] is JsonObject receipt && Version(receipt) is { } v && !Path.GetFileName(file).Contains("tamper"))
            {
                Assert.Equal(signable.GetValue<string>(), Encoding.UTF8.GetString(Signable.Canonical(receipt, v)));
                compared++;
            }
        }
        Assert.True(compared >= 10, $"only {compared} vectors carry a signable");
    }

    [Fact]
    public void Write_BrokenVariantsOfEveryVersion_SameBytesOrSameFirstError()
    {
        var variants = 0;
        foreach (var (where, receipt) in VectorReceipts().Where(r => !r.Where.Contains("tamper")).DistinctBy(r => Version(r.Receipt)! + ":" + r.Receipt.Count))
        {
            foreach (var (path, variant) in Variants(receipt))
            {
                AssertSame($"{where} with {path}", variant);
                variants++;
            }
        }
        Assert.True(variants > 500, $"only {variants} variants");
    }

    [Fact]
    public void Write_RandomReceiptsOfVersions1To3_MatchOracle()
    {
        var random = new Random(8785);
        for (var i = 0; i < 500; i++)
        {
            var action = new JsonObject
            {
                ["tool"] = RandomString(random),
                ["params"] = RandomValue(random, 0),
                ["params_hash"] = "sha256:" + new string('a', 64),
                ["target"] = RandomString(random),
                ["transport"] = "stdio",
            };
            foreach (var optional in Signable.ActionOptional)
            {
                if (random.Next(2) == 0)
                {
                    action[optional] = RandomString(random);
                }
            }
            var receipt = new JsonObject
            {
                ["v"] = 1,
                ["action"] = action,
                ["signer"] = new JsonObject { ["pubkey"] = "ed25519:" + RandomString(random), ["name"] = RandomString(random), ["owner"] = RandomString(random) },
                ["ts"] = "2026-11-26T10:00:00.000Z",
                ["nonce"] = "rnd_" + RandomString(random),
            };
            if (random.Next(3) == 0)
            {
                receipt["exp"] = "2026-11-27T10:00:00.000Z";
            }
            if (random.Next(3) == 0)
            {
                var policy = new JsonObject();
                foreach (var field in Signable.PolicyFields)
                {
                    if (random.Next(2) == 0)
                    {
                        policy[field] = RandomValue(random, 2);
                    }
                }
                receipt["policy"] = policy;
            }
            AssertSame($"random receipt {i}", receipt);

            var response = new JsonObject { ["content_hash"] = "sha256:" + new string('b', 64) };
            if (random.Next(3) > 0)
            {
                var outcome = new JsonObject { ["status"] = RandomString(random) };
                foreach (var field in new[] { "reason", "error" })
                {
                    if (random.Next(2) == 0)
                    {
                        outcome[field] = RandomString(random);
                    }
                }
                response["outcome"] = outcome;
            }
            var compound = new JsonObject
            {
                ["v"] = 2,
                ["action"] = action.DeepClone(),
                ["response"] = response,
                ["signer"] = receipt["signer"]!.DeepClone(),
                ["ts_request"] = RandomString(random),
                ["ts_response"] = RandomString(random),
                ["nonce"] = receipt["nonce"]!.DeepClone(),
            };
            AssertSame($"random v2 receipt {i}", compound);

            var agent = receipt.DeepClone().AsObject();
            agent["id"] = "rec_" + RandomString(random);
            agent["sig"] = "ed25519:" + RandomString(random);
            if (random.Next(2) == 0)
            {
                agent["authorization"] = RandomValue(random, 1) ?? new JsonObject();
            }
            var bilateral = new JsonObject
            {
                ["v"] = 3,
                ["agent_receipt"] = agent,
                ["response"] = response.DeepClone(),
                ["server"] = new JsonObject { ["pubkey"] = "ed25519:" + RandomString(random), ["name"] = RandomString(random) },
                ["ts_response"] = RandomString(random),
                ["nonce"] = RandomString(random),
            };
            AssertSame($"random v3 receipt {i}", bilateral);
        }
    }

    private static void AssertSame(string where, JsonObject receipt)
    {
        var version = Version(receipt) ?? 1;
        var expected = Attempt(() => JsonCanonicalizer.Canonicalize(SignableOracle.Build(receipt, version)));
        var actual = Attempt(() => Signable.Canonical(receipt, version));
        Assert.True(expected == actual, $"{where}:\n oracle {expected}\n writer {actual}");
    }

    private static string Attempt(Func<byte[]> write)
    {
        try
        {
            return "bytes " + Encoding.UTF8.GetString(write());
        }
        catch (ReceiptFormatException e)
        {
            return $"format error {e.Field}: {e.Message}";
        }
        catch (CanonicalizationException e)
        {
            return $"canonicalization error: {e.Message}";
        }
    }

    private static int? Version(JsonObject receipt) =>
        receipt["v"] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var n) && n is >= 1 and <= 4 ? n : null;

    /// <summary>Every receipt-shaped object (a "v" and a "sig") anywhere in the vectors and fixtures.</summary>
    private static IEnumerable<(string Where, JsonObject Receipt)> VectorReceipts()
    {
        var files = Directory.GetFiles(SharedVectors.Root, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            // Last value wins for a duplicate key (the lax vectors have one), as the reference's parser does.
            var root = StrictJson.Parse(File.ReadAllBytes(file), new StrictJsonOptions { DuplicateKeys = DuplicateKeyPolicy.LastWins, MaxDepth = 512 });
            foreach (var found in Receipts(root, Path.GetRelativePath(SharedVectors.Root, file)))
            {
                yield return found;
            }
        }
    }

    private static IEnumerable<(string, JsonObject)> Receipts(JsonNode? node, string where)
    {
        switch (node)
        {
            case JsonObject obj:
                if (Version(obj) is not null && obj.ContainsKey("sig"))
                {
                    yield return (where, obj);
                }
                foreach (var (key, value) in obj)
                {
                    foreach (var r in Receipts(value, where + "." + key))
                    {
                        yield return r;
                    }
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    foreach (var r in Receipts(array[i], $"{where}[{i}]"))
                    {
                        yield return r;
                    }
                }
                break;
        }
    }

    /// <summary>Copies of a receipt with one member (at any depth up to 3) removed, nulled or given another type.</summary>
    private static IEnumerable<(string Path, JsonObject Variant)> Variants(JsonObject receipt)
    {
        JsonNode?[] replacements = [null, 7, "text", new JsonObject(), new JsonArray()];
        foreach (var path in Paths(receipt, "", 0))
        {
            var removed = receipt.DeepClone().AsObject();
            if (Parent(removed, path, out var name) is { } p)
            {
                p.Remove(name);
                yield return ($"{path} removed", removed);
            }
            foreach (var replacement in replacements)
            {
                var changed = receipt.DeepClone().AsObject();
                if (Parent(changed, path, out name) is { } q)
                {
                    q[name] = replacement?.DeepClone();
                    yield return ($"{path} = {replacement?.ToJsonString() ?? "null"}", changed);
                }
            }
        }
    }

    private static IEnumerable<string> Paths(JsonObject obj, string prefix, int depth)
    {
        foreach (var (key, value) in obj)
        {
            var path = prefix + key;
            yield return path;
            if (depth < 2 && value is JsonObject inner && key != "params")
            {
                foreach (var p in Paths(inner, path + ".", depth + 1))
                {
                    yield return p;
                }
            }
        }
    }

    private static JsonObject? Parent(JsonObject root, string path, out string name)
    {
        var parts = path.Split('.');
        JsonObject? current = root;
        for (var i = 0; i < parts.Length - 1 && current is not null; i++)
        {
            current = current[parts[i]] as JsonObject;
        }
        name = parts[^1];
        return current;
    }

    private static string RandomString(Random random)
    {
        const string alphabet = "abcXYZ09 _-\"\\/\u00e9\u2028\u0001\ud83d\ude00";
        var length = random.Next(0, 12);
        var sb = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            var c = alphabet[random.Next(alphabet.Length)];
            if (char.IsHighSurrogate(c))
            {
                sb.Append("\ud83d\ude00");
            }
            else if (!char.IsLowSurrogate(c))
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    private static JsonNode? RandomValue(Random random, int depth)
    {
        switch (random.Next(depth > 3 ? 4 : 6))
        {
            case 0: return null;
            case 1: return random.Next(2) == 0;
            case 2: return random.Next(-1_000_000, 1_000_000);
            case 3: return RandomString(random);
            case 4:
                {
                    var obj = new JsonObject();
                    for (var i = random.Next(0, 5); i > 0; i--)
                    {
                        obj[RandomString(random) + i] = RandomValue(random, depth + 1);
                    }
                    return obj;
                }
            default:
                {
                    var array = new JsonArray();
                    for (var i = random.Next(0, 5); i > 0; i--)
                    {
                        array.Add(RandomValue(random, depth + 1));
                    }
                    return array;
                }
        }
    }
}
