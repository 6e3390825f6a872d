using System.Text.Json.Nodes;
using Signet.Canonicalization;
using Signet.Keys;

namespace Signet.Receipts;

/// <summary>Signs receipts with one key: v1 for a request, v2 for a request and its response, v3 to co-sign as a server.</summary>
/// <remarks>Thread-safe. The key is not owned: dispose it yourself.</remarks>
public sealed class ReceiptSigner
{
    /// <summary>The deepest <c>params</c> nesting a v1 receipt can carry and still be verifiable by the reference (§11).</summary>
    public const int MaxParamsDepth = 125;

    private readonly ISigner _key;
    private readonly TimeProvider _time;
    private readonly RandomSource _random;

    /// <summary>Creates a signer.</summary>
    /// <param name="key">The signing key.</param>
    /// <param name="name">The signer's name, as it appears in <c>signer.name</c> (or <c>server.name</c> for v3).</param>
    /// <param name="owner">The owner, in <c>signer.owner</c> (may be empty).</param>
    /// <param name="timeProvider">The clock for timestamps (default: the system clock).</param>
    /// <param name="random">The randomness for nonces (default: the system RNG).</param>
    public ReceiptSigner(SigningKey key, string name, string owner = "", TimeProvider? timeProvider = null, RandomSource? random = null)
        : this((ISigner)key, name, owner, timeProvider, random)
    {
    }

    /// <summary>Creates a signer over any key: in memory, in a PKCS#11 token, ….</summary>
    /// <param name="key">The key that signs.</param>
    /// <param name="name">The signer's name, as it appears in <c>signer.name</c> (or <c>server.name</c> for v3).</param>
    /// <param name="owner">The owner, in <c>signer.owner</c> (may be empty).</param>
    /// <param name="timeProvider">The clock for timestamps (default: the system clock).</param>
    /// <param name="random">The randomness for nonces (default: the system RNG).</param>
    public ReceiptSigner(ISigner key, string name, string owner = "", TimeProvider? timeProvider = null, RandomSource? random = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _key = key;
        Name = name;
        Owner = owner ?? "";
        _time = timeProvider ?? TimeProvider.System;
        _random = random ?? RandomSource.Cryptographic;
    }

    /// <summary>The signer's name.</summary>
    public string Name { get; }

    /// <summary>The signer's owner.</summary>
    public string Owner { get; }

    /// <summary>The public key receipts will name.</summary>
    public PublicKey PublicKey => _key.PublicKey;

    /// <summary>Whether a signature waits on another process or a device (<see cref="ISigner.SignsOutOfProcess"/>).</summary>
    public bool SignsOutOfProcess => _key.SignsOutOfProcess;

    /// <summary>The signer's clock.</summary>
    public TimeProvider TimeProvider => _time;

    /// <summary>Signs a v1 receipt: the agent's intent to call a tool with these arguments.</summary>
    /// <param name="action">The call.</param>
    /// <param name="expires">An optional expiry (<c>exp</c>), signed.</param>
    /// <exception cref="CanonicalizationException">The arguments have no canonical form (e.g. an integer ≥ 2^53).</exception>
    public Receipt SignRequest(ReceiptAction action, DateTimeOffset? expires = null)
    {
        var json = new JsonObject
        {
            ["v"] = 1,
            ["action"] = ActionJson(action, out var canonicalParams),
            ["signer"] = SignerJson(),
            ["ts"] = ReceiptText.Timestamp(_time.GetUtcNow()),
        };
        if (expires is { } exp)
        {
            json["exp"] = ReceiptText.Timestamp(exp);
        }
        json["nonce"] = ReceiptText.Nonce(_random);
        return Seal(json, 1, canonicalParams);
    }

    /// <summary>Signs a v2 receipt binding a request and the response it got.</summary>
    /// <param name="action">The call.</param>
    /// <param name="response">The response content that is hashed (the JSON-RPC result, or the error object).</param>
    /// <param name="requestTime">When the request was sent.</param>
    /// <param name="outcome">Optional outcome, signed.</param>
    public Receipt SignCompound(ReceiptAction action, JsonNode? response, DateTimeOffset requestTime, ReceiptOutcome? outcome = null)
    {
        var json = new JsonObject
        {
            ["v"] = 2,
            ["action"] = ActionJson(action, out var canonicalParams),
            ["response"] = ResponseJson(response, outcome),
            ["signer"] = SignerJson(),
            ["ts_request"] = ReceiptText.Timestamp(requestTime),
            ["ts_response"] = ReceiptText.Timestamp(_time.GetUtcNow()),
            ["nonce"] = ReceiptText.Nonce(_random),
        };
        return Seal(json, 2, canonicalParams);
    }

    /// <summary>
    /// Signs a v2 receipt binding the call a v1 receipt recorded to the response it got. The v1's action is taken as it
    /// was signed (same arguments, hash, ids), without serializing and re-reading the arguments again.
    /// </summary>
    /// <param name="request">The v1 receipt of the call (from <see cref="SignRequest"/>).</param>
    /// <param name="response">The response content that is hashed (the JSON-RPC result, or the error object).</param>
    /// <param name="requestTime">When the request was sent.</param>
    /// <param name="outcome">Optional outcome, signed.</param>
    public Receipt SignCompound(Receipt request, JsonNode? response, DateTimeOffset requestTime, ReceiptOutcome? outcome = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Version != 1 || request.Json["action"] is not JsonObject action)
        {
            throw new ArgumentException($"a v2 receipt is built from a v1 request receipt with an action, not v{request.Version}", nameof(request));
        }
        var json = new JsonObject
        {
            ["v"] = 2,
            ["action"] = action.DeepClone(),
            ["response"] = ResponseJson(response, outcome),
            ["signer"] = SignerJson(),
            ["ts_request"] = ReceiptText.Timestamp(requestTime),
            ["ts_response"] = ReceiptText.Timestamp(_time.GetUtcNow()),
            ["nonce"] = ReceiptText.Nonce(_random),
        };
        return Seal(json, 2, null);
    }

    /// <summary>Co-signs, as the server, an agent's v1 receipt together with the response: a v3 receipt.</summary>
    /// <param name="agentReceipt">The agent's v1 receipt, embedded whole (id and sig included).</param>
    /// <param name="response">The response content that is hashed.</param>
    /// <param name="outcome">Optional outcome, signed.</param>
    public Receipt CoSign(Receipt agentReceipt, JsonNode? response, ReceiptOutcome? outcome = null)
    {
        ArgumentNullException.ThrowIfNull(agentReceipt);
        if (agentReceipt.Version != 1)
        {
            throw new ArgumentException($"only a v1 receipt can be co-signed, not v{agentReceipt.Version}", nameof(agentReceipt));
        }
        var json = new JsonObject
        {
            ["v"] = 3,
            ["agent_receipt"] = agentReceipt.Json.DeepClone(),
            ["response"] = ResponseJson(response, outcome),
            ["server"] = new JsonObject { ["pubkey"] = _key.PublicKey.Text, ["name"] = Name },
            ["ts_response"] = ReceiptText.Timestamp(_time.GetUtcNow()),
            ["nonce"] = ReceiptText.Nonce(_random),
        };
        return Seal(json, 3, null);
    }

    /// <summary>The <c>params_hash</c> of arguments: sha256 of their canonical form (null hashes as <c>{}</c>).</summary>
    public static string ParamsHash(JsonNode? parameters) => JsonCanonicalizer.Sha256(parameters ?? new JsonObject());

    private Receipt Seal(JsonObject json, int version, byte[]? canonicalParams)
    {
        byte[] signature;
        var writer = Utf8CanonicalWriter.Rent();
        try
        {
            Signable.Write(writer, json, version, canonicalParams);
            signature = _key.Sign(writer.Written);
        }
        finally
        {
            Utf8CanonicalWriter.Return(writer);
        }
        // Emitted order: v, id, …, sig — id goes right after v.
        json.Insert(1, "id", ReceiptText.ReceiptId(signature));
        json["sig"] = ReceiptText.FormatSignature(signature);
        return new Receipt(json);
    }

    private JsonObject SignerJson() => new()
    {
        ["pubkey"] = _key.PublicKey.Text,
        ["name"] = Name,
        ["owner"] = Owner,
    };

    private static JsonObject ResponseJson(JsonNode? response, ReceiptOutcome? outcome)
    {
        var o = new JsonObject { ["content_hash"] = JsonCanonicalizer.Sha256(response) };
        if (outcome is not null)
        {
            o["outcome"] = outcome.ToJson();
        }
        return o;
    }

    /// <summary>The action object; <paramref name="canonicalParams"/> gets the canonical bytes of its params (null when there are none).</summary>
    internal static JsonObject ActionJson(ReceiptAction action, out byte[]? canonicalParams)
    {
        ArgumentException.ThrowIfNullOrEmpty(action.Tool);
        ArgumentException.ThrowIfNullOrEmpty(action.Target);
        string hash;
        JsonNode? parameters = null;
        canonicalParams = null;
        if (action.Params is null && !string.IsNullOrEmpty(action.ParamsHash))
        {
            if (!SignetHash.IsWellFormed(action.ParamsHash))
            {
                throw new ArgumentException($"params_hash \"{action.ParamsHash}\" is not sha256: + 64 lowercase hex", nameof(action));
            }
            hash = action.ParamsHash;
        }
        else
        {
            var depth = Depth(action.Params);
            if (depth > MaxParamsDepth)
            {
                throw new CanonicalizationException(
                    $"arguments nest {depth} levels deep; a receipt can carry at most {MaxParamsDepth} and stay verifiable by every Signet verifier",
                    "$");
            }
            if (action.Params is null)
            {
                hash = ParamsHash(null);
            }
            else
            {
                // Sign what will be written: the arguments are serialized once, canonicalized from those bytes (which
                // also checks them strictly), and the receipt holds a node read back from the same bytes. A CLR number
                // can serialize to a lexeme that reads back differently (an integral double ≥ 2^53 is written without a
                // fraction and reads back as an integer), so nothing is taken from the caller's node directly.
                var utf8 = ReceiptText.ToUtf8(action.Params);
                canonicalParams = JsonCanonicalizer.Canonicalize(utf8, ParamsParse);
                hash = SignetHash.Sha256(canonicalParams);
                parameters = JsonNode.Parse(utf8, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = MaxParamsDepth + 2 });
            }
        }

        var o = new JsonObject
        {
            ["tool"] = action.Tool,
            ["params"] = parameters,
            ["params_hash"] = hash,
            ["target"] = action.Target,
            ["transport"] = action.Transport,
        };
        Optional(o, "session", action.Session);
        Optional(o, "call_id", action.CallId);
        Optional(o, "response_hash", action.ResponseHash);
        Optional(o, "trace_id", action.TraceId);
        Optional(o, "parent_receipt_id", action.ParentReceiptId);
        return o;
    }

    private static void Optional(JsonObject o, string key, string? value)
    {
        if (value is not null)
        {
            o[key] = value;
        }
    }

    private static readonly StrictJsonOptions ParamsParse = new() { MaxDepth = MaxParamsDepth + 1 };

    /// <summary>How deeply a value nests: 0 for a scalar, 1 for a flat object or array.</summary>
    internal static int Depth(JsonNode? node)
    {
        var deepest = 0;
        switch (node)
        {
            case JsonObject obj:
                foreach (var member in obj)
                {
                    deepest = Math.Max(deepest, Depth(member.Value));
                }
                return deepest + 1;
            case JsonArray array:
                foreach (var item in array)
                {
                    deepest = Math.Max(deepest, Depth(item));
                }
                return deepest + 1;
            default:
                return 0;
        }
    }
}
