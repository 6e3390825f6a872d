using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Canonicalization;

namespace Signet.Receipts;

/// <summary>
/// Writes the canonical bytes a receipt's signature covers, from the receipt's known, typed fields, as the reference
/// does after deserializing into its structs: unknown fields are not part of it, absent or null optionals are
/// omitted. Signing and verification both go through here, so they cannot disagree.
/// </summary>
/// <remarks>
/// The signable's keys are fixed per version, so they are written straight in RFC 8785 order (sorted by UTF-16 code
/// units, which for these ASCII names is byte order) instead of building an object and sorting it; only the values
/// that come from outside (<c>params</c>, <c>policy</c> members, <c>authorization</c>) go through the general
/// canonicalizer. Fields are read and checked in the reference's struct order first, so the first problem reported
/// for a malformed receipt does not depend on the output order. The test project holds the same rules built as a
/// <see cref="JsonObject"/> and compares the two on every vector and on random receipts.
/// </remarks>
internal static class Signable
{
    public static readonly string[] ActionRequired = ["tool", "params_hash", "target", "transport"];
    public static readonly string[] ActionOptional = ["session", "call_id", "response_hash", "trace_id", "parent_receipt_id"];
    public static readonly string[] PolicyFields = ["policy_hash", "policy_name", "matched_rules", "decision", "reason"];

    // The policy's fields in canonical order.
    private static readonly string[] PolicyFieldsSorted = ["decision", "matched_rules", "policy_hash", "policy_name", "reason"];

    /// <summary>Known top-level fields of each version, in the order the reference emits them.</summary>
    public static IReadOnlyList<string> KnownFields(int version) => version switch
    {
        1 => ["v", "id", "action", "signer", "authorization", "policy", "ts", "exp", "nonce", "sig"],
        2 => ["v", "id", "action", "response", "signer", "ts_request", "ts_response", "nonce", "sig"],
        3 => ["v", "id", "agent_receipt", "response", "server", "ts_response", "nonce", "sig", "extensions"],
        4 => ["v", "id", "action", "signer", "authorization", "policy", "ts", "exp", "nonce", "sig"],
        _ => [],
    };

    /// <summary>The canonical signable of a receipt, as a new array.</summary>
    /// <exception cref="ReceiptFormatException">A signed field is missing or has the wrong type.</exception>
    public static byte[] Canonical(JsonObject receipt, int version)
    {
        var writer = Utf8CanonicalWriter.Rent();
        try
        {
            Write(writer, receipt, version, null);
            return writer.Written.ToArray();
        }
        finally
        {
            Utf8CanonicalWriter.Return(writer);
        }
    }

    /// <summary>
    /// Writes the canonical signable into <paramref name="w"/> and says where the canonical <c>params</c> of its action
    /// (the embedded agent receipt's, for v3) are in the output, so <c>params_hash</c> can be checked without a second pass.
    /// </summary>
    /// <param name="w">The writer; output is appended.</param>
    /// <param name="receipt">The receipt JSON.</param>
    /// <param name="version">Its version.</param>
    /// <param name="canonicalParams">The action's <c>params</c> already in canonical form, written as they are (the signer has them); null to canonicalize them here.</param>
    /// <exception cref="ReceiptFormatException">A signed field is missing or has the wrong type.</exception>
    /// <exception cref="CanonicalizationException">A value has no canonical form.</exception>
    public static SignableLayout Write(Utf8CanonicalWriter w, JsonObject receipt, int version, byte[]? canonicalParams)
    {
        var layout = new SignableLayout();
        switch (version)
        {
            case 1:
                {
                    var r = RequestFields.Read(receipt, "");
                    r.Write(w, canonicalParams, ref layout, includeIdAndSig: false);
                    layout.SignerKey = r.Signer.PubKey;
                    break;
                }
            case 2:
                {
                    var action = ActionFields.Read(receipt, "action");
                    var response = ResponseFields.Read(receipt);
                    var signer = SignerFields.Read(receipt, "signer", "", owner: true);
                    var tsRequest = String(receipt, "ts_request");
                    var tsResponse = String(receipt, "ts_response");
                    var nonce = String(receipt, "nonce");
                    w.Bytes("{\"action\":"u8);
                    action.Write(w, canonicalParams, ref layout);
                    w.Bytes(",\"nonce\":"u8);
                    w.String(nonce);
                    w.Bytes(",\"response\":"u8);
                    response.Write(w);
                    w.Bytes(",\"signer\":"u8);
                    signer.Write(w);
                    w.Bytes(",\"ts_request\":"u8);
                    w.String(tsRequest);
                    w.Bytes(",\"ts_response\":"u8);
                    w.String(tsResponse);
                    w.Bytes(",\"v\":2}"u8);
                    layout.SignerKey = signer.PubKey;
                    break;
                }
            case 3:
                {
                    if (receipt["agent_receipt"] is not JsonObject agent)
                    {
                        throw new ReceiptFormatException("agent_receipt must be an object", "agent_receipt");
                    }
                    var inner = RequestFields.Read(agent, "agent_receipt.");
                    var response = ResponseFields.Read(receipt);
                    var server = SignerFields.Read(receipt, "server", "", owner: false);
                    var tsResponse = String(receipt, "ts_response");
                    var nonce = String(receipt, "nonce");
                    w.Bytes("{\"agent_receipt\":"u8);
                    inner.Write(w, canonicalParams, ref layout, includeIdAndSig: true);
                    w.Bytes(",\"nonce\":"u8);
                    w.String(nonce);
                    w.Bytes(",\"response\":"u8);
                    response.Write(w);
                    w.Bytes(",\"server\":"u8);
                    server.Write(w);
                    w.Bytes(",\"ts_response\":"u8);
                    w.String(tsResponse);
                    w.Bytes(",\"v\":3}"u8);
                    layout.SignerKey = server.PubKey;
                    break;
                }
            case 4:
                {
                    var action = ActionFields.Read(receipt, "action");
                    var signer = SignerFields.Read(receipt, "signer", "", owner: true);
                    if (receipt["authorization"] is not JsonObject auth)
                    {
                        throw new ReceiptFormatException("authorization must be an object", "authorization");
                    }
                    var chainHash = StringField(auth, "chain_hash", "authorization.chain_hash");
                    var rootKey = StringField(auth, "root_pubkey", "authorization.root_pubkey");
                    var ts = String(receipt, "ts");
                    var nonce = String(receipt, "nonce");
                    w.Bytes("{\"action\":"u8);
                    action.Write(w, canonicalParams, ref layout);
                    w.Bytes(",\"authorization\":{\"chain_hash\":"u8);
                    w.String(chainHash);
                    w.Bytes(",\"root_pubkey\":"u8);
                    w.String(rootKey);
                    w.Bytes("},\"nonce\":"u8);
                    w.String(nonce);
                    w.Bytes(",\"signer\":"u8);
                    signer.Write(w);
                    w.Bytes(",\"ts\":"u8);
                    w.String(ts);
                    w.Bytes(",\"v\":4}"u8);
                    layout.SignerKey = signer.PubKey;
                    break;
                }
            default:
                throw new ReceiptFormatException($"unsupported receipt version {version}", "v");
        }
        return layout;
    }

    public static bool Present(JsonObject obj, string field) => obj.TryGetPropertyValue(field, out var value) && value is not null;

    private static string String(JsonObject receipt, string field) => StringField(receipt, field, field);

    private static string StringField(JsonObject obj, string field, string path)
    {
        if (!obj.TryGetPropertyValue(field, out var value) || value is null)
        {
            throw new ReceiptFormatException($"missing field {path}", path);
        }
        if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            return v.GetValue<string>();
        }
        throw new ReceiptFormatException($"{path} must be a string", path);
    }

    private static string? OptionalString(JsonObject obj, string field, string path) =>
        Present(obj, field) ? StringField(obj, field, path) : null;

    private static void OptionalMember(Utf8CanonicalWriter w, ReadOnlySpan<byte> commaKeyColon, string? value)
    {
        if (value is not null)
        {
            w.Bytes(commaKeyColon);
            w.String(value);
        }
    }

    /// <summary>The signed fields of a v1 receipt (also the agent receipt inside a v3).</summary>
    private readonly struct RequestFields
    {
        public ActionFields Action { get; init; }

        public SignerFields Signer { get; init; }

        public string Ts { get; init; }

        public string Nonce { get; init; }

        public JsonObject? Policy { get; init; }

        public string? Exp { get; init; }

        public string? Id { get; init; }

        public string? Sig { get; init; }

        public JsonNode? Authorization { get; init; }

        public static RequestFields Read(JsonObject receipt, string prefix)
        {
            try
            {
                var action = ActionFields.Read(receipt, "action");
                var signer = SignerFields.Read(receipt, "signer", "", owner: true);
                var ts = String(receipt, "ts");
                var nonce = String(receipt, "nonce");
                JsonObject? policy = null;
                if (Present(receipt, "policy"))
                {
                    policy = receipt["policy"] as JsonObject ?? throw new ReceiptFormatException("policy must be an object", "policy");
                }
                var exp = Present(receipt, "exp") ? String(receipt, "exp") : null;
                string? id = null, sig = null;
                JsonNode? authorization = null;
                if (prefix.Length > 0)
                {
                    // Embedded whole in a v3: id, sig and authorization are signed by the server too.
                    id = String(receipt, "id");
                    sig = String(receipt, "sig");
                    authorization = Present(receipt, "authorization") ? receipt["authorization"] : null;
                }
                return new RequestFields
                {
                    Action = action, Signer = signer, Ts = ts, Nonce = nonce, Policy = policy, Exp = exp,
                    Id = id, Sig = sig, Authorization = authorization,
                };
            }
            catch (ReceiptFormatException e) when (prefix.Length > 0)
            {
                throw new ReceiptFormatException(e.Message, prefix + e.Field);
            }
        }

        public void Write(Utf8CanonicalWriter w, byte[]? canonicalParams, ref SignableLayout layout, bool includeIdAndSig)
        {
            w.Bytes("{\"action\":"u8);
            Action.Write(w, canonicalParams, ref layout);
            if (includeIdAndSig && Authorization is not null)
            {
                w.Bytes(",\"authorization\":"u8);
                w.Write(Authorization);
            }
            OptionalMember(w, ",\"exp\":"u8, Exp);
            if (includeIdAndSig)
            {
                w.Bytes(",\"id\":"u8);
                w.String(Id!);
            }
            w.Bytes(",\"nonce\":"u8);
            w.String(Nonce);
            if (Policy is not null)
            {
                w.Bytes(",\"policy\":{"u8);
                var first = true;
                foreach (var field in PolicyFieldsSorted)
                {
                    if (Policy.TryGetPropertyValue(field, out var value))
                    {
                        if (!first)
                        {
                            w.Byte((byte)',');
                        }
                        first = false;
                        w.String(field);
                        w.Byte((byte)':');
                        w.Write(value);
                    }
                }
                w.Byte((byte)'}');
            }
            if (includeIdAndSig)
            {
                w.Bytes(",\"sig\":"u8);
                w.String(Sig!);
            }
            w.Bytes(",\"signer\":"u8);
            Signer.Write(w);
            w.Bytes(",\"ts\":"u8);
            w.String(Ts);
            w.Bytes(",\"v\":1}"u8);
        }
    }

    private readonly struct ActionFields
    {
        public JsonNode? Params { get; init; }

        public string Tool { get; init; }

        public string ParamsHash { get; init; }

        public string Target { get; init; }

        public string Transport { get; init; }

        public string? Session { get; init; }

        public string? CallId { get; init; }

        public string? ResponseHash { get; init; }

        public string? TraceId { get; init; }

        public string? ParentReceiptId { get; init; }

        public static ActionFields Read(JsonObject receipt, string name)
        {
            if (receipt[name] is not JsonObject action)
            {
                throw new ReceiptFormatException($"{name} must be an object", name);
            }
            if (!action.TryGetPropertyValue("params", out var parameters))
            {
                throw new ReceiptFormatException("missing field params", name + ".params");
            }
            return new ActionFields
            {
                Params = parameters,
                Tool = StringField(action, "tool", name + ".tool"),
                ParamsHash = StringField(action, "params_hash", name + ".params_hash"),
                Target = StringField(action, "target", name + ".target"),
                Transport = StringField(action, "transport", name + ".transport"),
                Session = OptionalString(action, "session", name + ".session"),
                CallId = OptionalString(action, "call_id", name + ".call_id"),
                ResponseHash = OptionalString(action, "response_hash", name + ".response_hash"),
                TraceId = OptionalString(action, "trace_id", name + ".trace_id"),
                ParentReceiptId = OptionalString(action, "parent_receipt_id", name + ".parent_receipt_id"),
            };
        }

        public void Write(Utf8CanonicalWriter w, byte[]? canonicalParams, ref SignableLayout layout)
        {
            w.Byte((byte)'{');
            if (CallId is not null)
            {
                w.Bytes("\"call_id\":"u8);
                w.String(CallId);
                w.Byte((byte)',');
            }
            w.Bytes("\"params\":"u8);
            layout.ParamsStart = w.Length;
            if (canonicalParams is not null)
            {
                w.Bytes(canonicalParams);
            }
            else
            {
                w.Write(Params);
            }
            layout.ParamsLength = w.Length - layout.ParamsStart;
            layout.ParamsIsNull = Params is null;
            w.Bytes(",\"params_hash\":"u8);
            w.String(ParamsHash);
            OptionalMember(w, ",\"parent_receipt_id\":"u8, ParentReceiptId);
            OptionalMember(w, ",\"response_hash\":"u8, ResponseHash);
            OptionalMember(w, ",\"session\":"u8, Session);
            w.Bytes(",\"target\":"u8);
            w.String(Target);
            w.Bytes(",\"tool\":"u8);
            w.String(Tool);
            OptionalMember(w, ",\"trace_id\":"u8, TraceId);
            w.Bytes(",\"transport\":"u8);
            w.String(Transport);
            w.Byte((byte)'}');
        }
    }

    private readonly struct SignerFields
    {
        public string PubKey { get; init; }

        public string Name { get; init; }

        public string? Owner { get; init; }

        public static SignerFields Read(JsonObject receipt, string name, string prefix, bool owner)
        {
            if (receipt[name] is not JsonObject obj)
            {
                throw new ReceiptFormatException($"{name} must be an object", prefix + name);
            }
            return new SignerFields
            {
                PubKey = StringField(obj, "pubkey", prefix + name + ".pubkey"),
                Name = StringField(obj, "name", prefix + name + ".name"),
                Owner = owner ? StringField(obj, "owner", prefix + name + ".owner") : null,
            };
        }

        public void Write(Utf8CanonicalWriter w)
        {
            w.Bytes("{\"name\":"u8);
            w.String(Name);
            OptionalMember(w, ",\"owner\":"u8, Owner);
            w.Bytes(",\"pubkey\":"u8);
            w.String(PubKey);
            w.Byte((byte)'}');
        }
    }

    private readonly struct ResponseFields
    {
        public string ContentHash { get; init; }

        public string? Status { get; init; }

        public string? Reason { get; init; }

        public string? Error { get; init; }

        public static ResponseFields Read(JsonObject receipt)
        {
            if (receipt["response"] is not JsonObject response)
            {
                throw new ReceiptFormatException("response must be an object", "response");
            }
            var contentHash = StringField(response, "content_hash", "response.content_hash");
            if (!Present(response, "outcome"))
            {
                return new ResponseFields { ContentHash = contentHash };
            }
            if (response["outcome"] is not JsonObject outcome)
            {
                throw new ReceiptFormatException("response.outcome must be an object", "response.outcome");
            }
            return new ResponseFields
            {
                ContentHash = contentHash,
                Status = StringField(outcome, "status", "response.outcome.status"),
                Reason = OptionalString(outcome, "reason", "response.outcome.reason"),
                Error = OptionalString(outcome, "error", "response.outcome.error"),
            };
        }

        public void Write(Utf8CanonicalWriter w)
        {
            w.Bytes("{\"content_hash\":"u8);
            w.String(ContentHash);
            if (Status is not null)
            {
                w.Bytes(",\"outcome\":{"u8);
                if (Error is not null)
                {
                    w.Bytes("\"error\":"u8);
                    w.String(Error);
                    w.Byte((byte)',');
                }
                if (Reason is not null)
                {
                    w.Bytes("\"reason\":"u8);
                    w.String(Reason);
                    w.Byte((byte)',');
                }
                w.Bytes("\"status\":"u8);
                w.String(Status);
                w.Byte((byte)'}');
            }
            w.Byte((byte)'}');
        }
    }
}

/// <summary>Where things are in a written signable.</summary>
internal struct SignableLayout
{
    /// <summary>The key the receipt names as its signer (<c>server.pubkey</c> for v3).</summary>
    public string SignerKey;

    /// <summary>Offset of the action's canonical <c>params</c> in the writer's output.</summary>
    public int ParamsStart;

    /// <summary>Length of the action's canonical <c>params</c>.</summary>
    public int ParamsLength;

    /// <summary>Whether <c>params</c> is JSON null (its <c>params_hash</c> is then the hash of <c>{}</c>).</summary>
    public bool ParamsIsNull;
}

/// <summary>A receipt whose structure is wrong: a missing or mistyped field.</summary>
public sealed class ReceiptFormatException : SignetException
{
    /// <summary>Creates the exception.</summary>
    public ReceiptFormatException(string message, string field) : base(message) => Field = field;

    /// <summary>The dotted path of the field, e.g. <c>action.tool</c>.</summary>
    public string Field { get; }
}
