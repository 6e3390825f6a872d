using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Canonicalization;
using Signet.Keys;
using Signet.Trust;

namespace Signet.Receipts;

/// <summary>
/// Verifies receipts of every version. Strict by default: besides the signature it checks the JSON has no
/// duplicate keys or unknown fields, that <c>id</c> derives from the signature, that <c>params_hash</c> matches
/// <c>params</c>, that the named key is the signing key (and a trusted one, when given), timestamps, expiry, and,
/// for v3, the embedded agent receipt and the time window; for v4, the delegation chain.
/// </summary>
/// <remarks>Returns a <see cref="ReceiptVerification"/>; it never throws on bad evidence. Thread-safe.</remarks>
public static class ReceiptVerifier
{
    /// <summary>The deepest receipt the reference can parse (serde_json's limit); deeper ones are refused symmetrically.</summary>
    public const int MaxReceiptDepth = 127;

    /// <summary>Parses and verifies receipt JSON.</summary>
    public static ReceiptVerification Verify(ReadOnlySpan<byte> utf8Json, ReceiptVerificationOptions? options = null)
    {
        options ??= ReceiptVerificationOptions.Default;
        var parse = new StrictJsonOptions
        {
            DuplicateKeys = options.Lax ? DuplicateKeyPolicy.LastWins : DuplicateKeyPolicy.Reject,
            MaxDepth = MaxReceiptDepth,
        };
        if (!StrictJson.TryParse(utf8Json, out var node, out var error, parse))
        {
            var reason = error!.Kind == JsonParseErrorKind.DuplicateKey
                ? $"receipt JSON has a {error.Reason} (a parser that keeps the first value would read a different receipt)"
                : error.Message;
            return Invalid(reason, error.Path == "$" ? null : error.Path.TrimStart('$', '.'));
        }
        return node is JsonObject obj ? Verify(obj, options) : Invalid("a receipt must be a JSON object", null);
    }

    /// <summary>Parses and verifies receipt JSON text.</summary>
    public static ReceiptVerification Verify(string json, ReceiptVerificationOptions? options = null)
    {
        byte[] utf8;
        try
        {
            utf8 = StrictJson.ToUtf8(json);
        }
        catch (JsonParseException e)
        {
            return Invalid(e.Message, null);
        }
        return Verify(utf8, options);
    }

    /// <summary>Verifies a receipt.</summary>
    public static ReceiptVerification Verify(Receipt receipt, ReceiptVerificationOptions? options = null) =>
        Verify(receipt.Json, options);

    /// <summary>Verifies receipt JSON that is already parsed (e.g. from an audit record).</summary>
    public static ReceiptVerification Verify(JsonObject receipt, ReceiptVerificationOptions? options = null)
    {
        options ??= ReceiptVerificationOptions.Default;
        try
        {
            return VerifyCore(receipt, options);
        }
        catch (ReceiptFormatException e)
        {
            return Invalid(e.Message, e.Field, receipt);
        }
        catch (SignetException e)
        {
            return Invalid(e.Message, null, receipt);
        }
    }

    private static ReceiptVerification VerifyCore(JsonObject json, ReceiptVerificationOptions options)
    {
        var receipt = Receipt.FromJson(json);
        if (ReceiptSigner.Depth(json) > MaxReceiptDepth)
        {
            return Invalid($"receipt nests deeper than {MaxReceiptDepth} levels, which the reference Signet cannot parse", null, json);
        }
        if (json["v"] is not JsonValue vNode || vNode.GetValueKind() != JsonValueKind.Number || !vNode.TryGetValue<int>(out var version) || vNode.ToJsonString().Contains('.', StringComparison.Ordinal))
        {
            return Invalid("missing or non-integer \"v\" field", "v", json);
        }
        if (version is < 1 or > 4)
        {
            return Invalid($"unsupported receipt version {version}", "v", json);
        }

        var warnings = new List<string>();
        if (!options.Lax)
        {
            var unknown = UnknownField(json, version);
            if (unknown is not null)
            {
                return Invalid($"unknown field {unknown} (it is not covered by the signature)", unknown, json, version);
            }
        }

        // The signature. The canonical params are written once, into the signable, and hashed from there.
        byte[] signed;
        string? paramsHash = null;
        SignableLayout layout;
        var writer = Utf8CanonicalWriter.Rent();
        try
        {
            layout = Signable.Write(writer, json, version, canonicalParams: null);
            signed = writer.Written.ToArray();
            if (!layout.ParamsIsNull)
            {
                paramsHash = SignetHash.Sha256(writer.Written.Slice(layout.ParamsStart, layout.ParamsLength));
            }
        }
        finally
        {
            Utf8CanonicalWriter.Return(writer);
        }
        var sigText = (json["sig"] as JsonValue)?.GetValueKind() == JsonValueKind.String ? json["sig"]!.GetValue<string>() : null;
        if (!ReceiptText.TryParseSignature(sigText, out var signature))
        {
            return Invalid("sig is not ed25519: + 88 characters of padded base64", "sig", json, version);
        }
        var keyField = version == 3 ? "server.pubkey" : "signer.pubkey";
        var keyText = layout.SignerKey;
        if (!PublicKey.TryParse(keyText, out var namedKey, out var keyError) || !keyText.StartsWith(PublicKey.Prefix, StringComparison.Ordinal))
        {
            return Invalid(keyError ?? $"{keyField} must start with ed25519:", keyField, json, version);
        }

        var anchorKey = namedKey;
        var anchored = false;
        if (options.TrustedKeys.Count > 0)
        {
            if (version == 4)
            {
                var root = (json["authorization"] as JsonObject)?["root_pubkey"]?.GetValue<string>();
                anchored = PublicKey.TryParse(root, out var rootKey, out _) && options.TrustedKeys.Contains(rootKey);
                if (!anchored)
                {
                    return Invalid("the delegation root is not one of the trusted keys", "authorization.root_pubkey", json, version);
                }
            }
            else if (options.Lax)
            {
                // The reference verifies with the caller's key and never compares it with the named one.
                var match = options.TrustedKeys.FirstOrDefault(k => k.Verify(signed, signature));
                if (match is null)
                {
                    return Invalid("signature mismatch for every trusted key", "sig", json, version);
                }
                anchorKey = match;
                anchored = true;
            }
            else
            {
                anchored = options.TrustedKeys.Contains(namedKey);
                if (!anchored)
                {
                    var actual = options.TrustedKeys.FirstOrDefault(k => k.Verify(signed, signature));
                    return Invalid(actual is null
                        ? $"{keyField} {namedKey} is not one of the trusted keys"
                        : $"{keyField} names {namedKey}, but the receipt was signed by trusted key {actual}: the named signer is not the signing key",
                        keyField, json, version);
                }
            }
        }

        if (!anchorKey.Verify(signed, signature))
        {
            // Edited arguments are the commonest cause: say so, rather than only that the signature fails.
            var mismatch = version == 3 ? "server signature mismatch" : "signature mismatch";
            return ParamsChanged(json, version, paramsHash) is { } changed
                ? Invalid($"{mismatch}: {changed.Reason}", changed.Field, json, version)
                : Invalid(mismatch, "sig", json, version);
        }

        if (!options.Lax)
        {
            var idText = json["id"] is JsonValue idv && idv.GetValueKind() == JsonValueKind.String ? idv.GetValue<string>() : null;
            var expectedId = ReceiptText.ReceiptId(signature);
            if (idText != expectedId)
            {
                return Invalid($"id {idText ?? "(missing)"} is not derived from the signature (expected {expectedId})", "id", json, version);
            }
        }

        // Version-specific checks.
        var failure = version switch
        {
            1 => CheckRequest(json, options, "", warnings, paramsHash),
            2 => CheckCompound(json, options, paramsHash),
            3 => CheckBilateral(json, options, warnings),
            _ => CheckAuthorized(json, options, paramsHash),
        };
        if (failure is not null)
        {
            return failure with { Version = version, ReceiptId = receipt.Id, Receipt = receipt };
        }

        if (!options.Lax)
        {
            var binding = CheckBinding(version == 3 ? json["agent_receipt"]!.AsObject() : json, options, version == 3 ? "agent_receipt." : "");
            if (binding is not null)
            {
                return binding with { Version = version, ReceiptId = receipt.Id, Receipt = receipt };
            }
        }

        if (options.TrustBundle is { } bundle)
        {
            // After every other check: a forged or malformed receipt is reported as such, not as an untrusted key.
            if (ReceiptTrust.Check(json, bundle, options.TrustAt) is { } untrusted)
            {
                return Invalid(untrusted.Reason, untrusted.Field, json, version);
            }
            anchored = true;
        }

        return new ReceiptVerification
        {
            IsValid = true,
            Version = version,
            ReceiptId = receipt.Id,
            SignerKey = anchorKey,
            IsAnchored = anchored,
            Warnings = warnings,
            Receipt = receipt,
        };
    }

    private static ReceiptVerification? CheckRequest(JsonObject json, ReceiptVerificationOptions options, string prefix, List<string> warnings, string? paramsHash)
    {
        if (!options.Lax)
        {
            var params_ = CheckParamsHash(json, prefix, paramsHash);
            if (params_ is not null)
            {
                return params_;
            }
            if (!ReceiptText.TryParseTimestamp(json["ts"]!.GetValue<string>(), out _))
            {
                return Invalid("ts is not an RFC 3339 timestamp", prefix + "ts");
            }
            if (json["authorization"] is not null && json["v"]!.GetValue<int>() == 1)
            {
                warnings.Add($"{prefix}authorization is present on a v1 receipt and is not covered by its signature");
            }
        }
        if (Signable.Present(json, "exp"))
        {
            var expText = json["exp"]!.GetValue<string>();
            if (!ReceiptText.TryParseTimestamp(expText, out var exp))
            {
                return Invalid("exp is not an RFC 3339 timestamp", prefix + "exp");
            }
            if (!options.AllowExpired && options.TimeProvider.GetUtcNow() > exp)
            {
                return Invalid($"receipt expired at {expText}", prefix + "exp");
            }
        }
        return null;
    }

    private static ReceiptVerification? CheckCompound(JsonObject json, ReceiptVerificationOptions options, string? paramsHash)
    {
        if (options.Lax)
        {
            return null;
        }
        var p = CheckParamsHash(json, "", paramsHash);
        if (p is not null)
        {
            return p;
        }
        if (!SignetHash.IsWellFormed(json["response"]!["content_hash"]!.GetValue<string>()))
        {
            return Invalid("response.content_hash is not sha256: + 64 lowercase hex", "response.content_hash");
        }
        if (!ReceiptText.TryParseTimestamp(json["ts_request"]!.GetValue<string>(), out var request))
        {
            return Invalid("ts_request is not an RFC 3339 timestamp (the reference signs any string here; strict mode does not accept it)", "ts_request");
        }
        if (!ReceiptText.TryParseTimestamp(json["ts_response"]!.GetValue<string>(), out var response))
        {
            return Invalid("ts_response is not an RFC 3339 timestamp (the reference signs any string here; strict mode does not accept it)", "ts_response");
        }
        if (response < request)
        {
            return Invalid("ts_response is earlier than ts_request", "ts_response");
        }
        return null;
    }

    private static ReceiptVerification? CheckBilateral(JsonObject json, ReceiptVerificationOptions options, List<string> warnings)
    {
        var agent = json["agent_receipt"]!.AsObject();
        if (options.KnownAgentReceipt is { } known)
        {
            // The receipt this side signed: the server's signature covers the embedded copy, so byte-for-byte
            // canonical equality with it is all there is to check.
            if (known.Version != 1 || !CanonicallyEqual(agent, known.Json))
            {
                return Invalid($"the embedded agent receipt is not {known.Id}, the receipt this side sent", "agent_receipt");
            }
        }
        else
        {
            var agentResult = Verify(agent, options with
            {
                TrustedKeys = options.TrustedAgentKeys,
                TrustedAgentKeys = [],
                ExpectedSession = null,
                ExpectedCallId = null,
            });
            if (!agentResult.IsValid)
            {
                return Invalid($"embedded agent receipt is invalid: {agentResult.Reason}", "agent_receipt." + (agentResult.Field ?? ""));
            }
            if (agentResult.Version != 1)
            {
                return Invalid("the embedded agent receipt must be v1", "agent_receipt.v");
            }
        }
        if (json["extensions"] is not null)
        {
            warnings.Add("extensions are not covered by the server's signature");
        }
        var agentTsText = agent["ts"]!.GetValue<string>();
        var responseTsText = json["ts_response"]!.GetValue<string>();
        if (!ReceiptText.TryParseTimestamp(agentTsText, out var agentTs))
        {
            return Invalid("agent_receipt.ts is not an RFC 3339 timestamp", "agent_receipt.ts");
        }
        if (!ReceiptText.TryParseTimestamp(responseTsText, out var responseTs))
        {
            return Invalid("ts_response is not an RFC 3339 timestamp", "ts_response");
        }
        if (agentTs > responseTs)
        {
            return Invalid($"the server answered ({responseTsText}) before the agent asked ({agentTsText})", "ts_response");
        }
        if (options.MaxTimeWindow > TimeSpan.Zero && responseTs - agentTs > options.MaxTimeWindow)
        {
            return Invalid($"the response came {(responseTs - agentTs).TotalSeconds:0.###} s after the request, outside the {options.MaxTimeWindow.TotalSeconds:0} s window", "ts_response");
        }
        if (!options.Lax && !SignetHash.IsWellFormed(json["response"]!["content_hash"]!.GetValue<string>()))
        {
            return Invalid("response.content_hash is not sha256: + 64 lowercase hex", "response.content_hash");
        }
        return null;
    }

    private static bool CanonicallyEqual(JsonObject a, JsonObject b)
    {
        try
        {
            return JsonCanonicalizer.Canonicalize(a).AsSpan().SequenceEqual(JsonCanonicalizer.Canonicalize(b));
        }
        catch (CanonicalizationException)
        {
            return false;
        }
    }

    private static ReceiptVerification? CheckAuthorized(JsonObject json, ReceiptVerificationOptions options, string? paramsHash)
    {
        var expiry = CheckRequest(json, options, "", [], paramsHash);
        if (expiry is not null)
        {
            return expiry;
        }
        if (options.Lax)
        {
            return null;
        }
        var auth = json["authorization"]!.AsObject();
        if (auth["chain"] is not JsonArray chain || chain.Count == 0)
        {
            return Invalid("authorization.chain must be a non-empty array", "authorization.chain");
        }
        if (chain.Count > 16)
        {
            return Invalid("delegation chain longer than 16 tokens", "authorization.chain");
        }
        var chainHash = JsonCanonicalizer.Sha256(chain);
        if (auth["chain_hash"]!.GetValue<string>() != chainHash)
        {
            return Invalid("authorization.chain_hash does not match the chain (the chain was changed after signing)", "authorization.chain_hash");
        }
        var ts = ReceiptText.TryParseTimestamp(json["ts"]!.GetValue<string>(), out var t) ? t : DateTimeOffset.MinValue;
        string? previousDelegate = null;
        JsonObject? previousScope = null;
        for (var i = 0; i < chain.Count; i++)
        {
            var field = $"authorization.chain[{i}]";
            if (chain[i] is not JsonObject token)
            {
                return Invalid("a delegation token must be an object", field);
            }
            var tokenFailure = CheckToken(token, field, ts + options.ClockSkew, options.AllowExpired);
            if (tokenFailure is not null)
            {
                return tokenFailure;
            }
            var delegator = token["delegator"]!["pubkey"]!.GetValue<string>();
            if (previousDelegate is not null && delegator != previousDelegate)
            {
                return Invalid("the delegator is not the previous token's delegate", field + ".delegator.pubkey");
            }
            var scope = token["scope"]!.AsObject();
            if (previousScope is not null && (!Narrows(scope, previousScope, "tools") || !Narrows(scope, previousScope, "targets")))
            {
                return Invalid("the token widens the scope it was given", field + ".scope");
            }
            var remaining = chain.Count - 1 - i;
            if (scope["max_depth"] is not JsonValue md || !md.TryGetValue<long>(out var maxDepth) || remaining > maxDepth)
            {
                return Invalid($"the chain delegates {remaining} more level(s) than max_depth allows", field + ".scope.max_depth");
            }
            previousDelegate = token["delegate"]!["pubkey"]!.GetValue<string>();
            previousScope = scope;
        }
        if (auth["root_pubkey"]!.GetValue<string>() != chain[0]!["delegator"]!["pubkey"]!.GetValue<string>())
        {
            return Invalid("authorization.root_pubkey is not the first delegator", "authorization.root_pubkey");
        }
        if (json["signer"]!["pubkey"]!.GetValue<string>() != previousDelegate)
        {
            return Invalid("the signer is not the last delegate of the chain", "signer.pubkey");
        }
        var action = json["action"]!.AsObject();
        if (!InScope(previousScope!, "tools", action["tool"]!.GetValue<string>()))
        {
            return Invalid("the tool is outside the delegated scope", "action.tool");
        }
        if (!InScope(previousScope!, "targets", action["target"]!.GetValue<string>()))
        {
            return Invalid("the target is outside the delegated scope", "action.target");
        }
        return null;
    }

    private static ReceiptVerification? CheckToken(JsonObject token, string field, DateTimeOffset at, bool allowExpired)
    {
        try
        {
            var scope = token["scope"] as JsonObject ?? throw new ReceiptFormatException("scope must be an object", field + ".scope");
            var signableScope = new JsonObject
            {
                ["tools"] = scope["tools"]?.DeepClone(),
                ["targets"] = scope["targets"]?.DeepClone(),
                ["max_depth"] = scope["max_depth"]?.DeepClone(),
            };
            if (Signable.Present(scope, "expires"))
            {
                signableScope["expires"] = scope["expires"]!.DeepClone();
            }
            var signable = new JsonObject
            {
                ["v"] = token["v"]?.DeepClone(),
                ["delegator"] = Pair(token, "delegator", field),
                ["delegate"] = Pair(token, "delegate", field),
                ["scope"] = signableScope,
                ["issued_at"] = token["issued_at"]?.DeepClone(),
                ["nonce"] = token["nonce"]?.DeepClone(),
            };
            var sigText = token["sig"]?.GetValue<string>();
            if (!ReceiptText.TryParseSignature(sigText, out var sig))
            {
                return Invalid("token sig is not ed25519: + base64", field + ".sig");
            }
            if (!PublicKey.TryParse(token["delegator"]!["pubkey"]!.GetValue<string>(), out var key, out var error))
            {
                return Invalid(error, field + ".delegator.pubkey");
            }
            if (!key.Verify(JsonCanonicalizer.Canonicalize(signable), sig))
            {
                return Invalid("delegation token signature mismatch", field + ".sig");
            }
            if (token["id"]?.GetValue<string>() != ReceiptText.DerivedId("del_", sig))
            {
                return Invalid("token id is not derived from its signature", field + ".id");
            }
            if (!allowExpired && Signable.Present(scope, "expires") &&
                ReceiptText.TryParseTimestamp(scope["expires"]!.GetValue<string>(), out var expires) && at > expires)
            {
                return Invalid("the delegation had expired when the receipt was signed", field + ".scope.expires");
            }
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            return Invalid($"malformed delegation token: {e.Message}", field);
        }
    }

    private static JsonObject Pair(JsonObject token, string name, string field)
    {
        if (token[name] is not JsonObject o || o["pubkey"] is null || o["name"] is null)
        {
            throw new ReceiptFormatException($"{name} must be an object with pubkey and name", field + "." + name);
        }
        return new JsonObject { ["pubkey"] = o["pubkey"]!.DeepClone(), ["name"] = o["name"]!.DeepClone() };
    }

    private static bool InScope(JsonObject scope, string list, string value) =>
        scope[list] is JsonArray items && items.Any(i => i?.GetValue<string>() is "*" || i?.GetValue<string>() == value);

    private static bool Narrows(JsonObject scope, JsonObject parent, string list)
    {
        if (InScope(parent, list, "*") && parent[list]!.AsArray().Count == 1)
        {
            return true;
        }
        return scope[list] is JsonArray items && items.All(i => i?.GetValue<string>() != "*" && InScope(parent, list, i!.GetValue<string>()));
    }

    /// <summary>
    /// When the receipt's params no longer hash to its params_hash (v3: the embedded agent receipt's), why; else null.
    /// </summary>
    private static (string Reason, string Field)? ParamsChanged(JsonObject json, int version, string? actual)
    {
        var prefix = version == 3 ? "agent_receipt." : "";
        var action = (version == 3 ? json["agent_receipt"]?["action"] : json["action"]) as JsonObject;
        if (actual is null || action?["params_hash"] is not JsonValue claimedNode || claimedNode.GetValueKind() != JsonValueKind.String)
        {
            return null;
        }
        var claimed = claimedNode.GetValue<string>();
        return claimed == actual || !SignetHash.IsWellFormed(claimed)
            ? null
            : ($"params_hash mismatch: the params were changed after signing (they hash to {actual}; the signed params_hash is {claimed})", prefix + "action.params");
    }

    /// <summary>Checks <c>params_hash</c> against <paramref name="actual"/>, the hash of the canonical params taken from the signable (null when params is null: hash-only).</summary>
    private static ReceiptVerification? CheckParamsHash(JsonObject json, string prefix, string? actual)
    {
        var claimed = json["action"]!["params_hash"]!.GetValue<string>();
        if (actual is null)
        {
            // Hash-only mode: the arguments are not in the receipt, only their hash.
            return SignetHash.IsWellFormed(claimed) ? null : Invalid("params_hash is not sha256: + 64 lowercase hex", prefix + "action.params_hash");
        }
        return claimed == actual
            ? null
            : Invalid($"params_hash {claimed} does not match the params (they hash to {actual})", prefix + "action.params_hash");
    }

    private static ReceiptVerification? CheckBinding(JsonObject request, ReceiptVerificationOptions options, string prefix)
    {
        var action = request["action"] as JsonObject;
        if (options.ExpectedSession is not null && action?["session"]?.GetValue<string>() != options.ExpectedSession)
        {
            return Invalid($"the receipt is for another session (expected {options.ExpectedSession})", prefix + "action.session");
        }
        if (options.ExpectedCallId is not null && action?["call_id"]?.GetValue<string>() != options.ExpectedCallId)
        {
            return Invalid($"the receipt is for another call (expected {options.ExpectedCallId})", prefix + "action.call_id");
        }
        return null;
    }

    private static string? UnknownField(JsonObject json, int version)
    {
        var known = Signable.KnownFields(version);
        foreach (var (key, _) in json)
        {
            if (!known.Contains(key))
            {
                return key;
            }
        }
        if (json["action"] is JsonObject action)
        {
            foreach (var (key, _) in action)
            {
                if (key != "params" && !Signable.ActionRequired.Contains(key) && !Signable.ActionOptional.Contains(key))
                {
                    return "action." + key;
                }
            }
        }
        foreach (var (name, fields) in new[] { ("signer", new[] { "pubkey", "name", "owner" }), ("server", ["pubkey", "name"]), ("policy", Signable.PolicyFields) })
        {
            if (json[name] is JsonObject obj)
            {
                foreach (var (key, _) in obj)
                {
                    if (!fields.Contains(key))
                    {
                        return name + "." + key;
                    }
                }
            }
        }
        if (json["response"] is JsonObject response)
        {
            foreach (var (key, value) in response)
            {
                if (key is not ("content_hash" or "outcome"))
                {
                    return "response." + key;
                }
                if (key == "outcome" && value is JsonObject outcome)
                {
                    foreach (var (k, _) in outcome)
                    {
                        if (k is not ("status" or "reason" or "error"))
                        {
                            return "response.outcome." + k;
                        }
                    }
                }
            }
        }
        return null;
    }

    private static ReceiptVerification Invalid(string reason, string? field, JsonObject? json = null, int? version = null) => new()
    {
        IsValid = false,
        Reason = reason,
        Field = string.IsNullOrEmpty(field) ? null : field.TrimEnd('.'),
        Version = version,
        ReceiptId = json?["id"] is JsonValue id && id.GetValueKind() == JsonValueKind.String ? id.GetValue<string>() : null,
        Receipt = json is null ? null : Receipt.FromJson(json),
    };
}
