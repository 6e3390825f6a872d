using System.Text.Json;
using System.Text.Json.Nodes;

using Signet.Receipts;

namespace Signet.Core.Tests.Receipts;

/// <summary>
/// The signable as a JsonObject built field by field and canonicalized by the general canonicalizer: the plain
/// statement of what <c>Signable.Write</c> emits directly. Tests compare the two on every vector and on random receipts.
/// </summary>
internal static class SignableOracle
{
    private static readonly string[] ActionRequired = ["tool", "params_hash", "target", "transport"];
    private static readonly string[] ActionOptional = ["session", "call_id", "response_hash", "trace_id", "parent_receipt_id"];
    private static readonly string[] PolicyFields = ["policy_hash", "policy_name", "matched_rules", "decision", "reason"];

    public static JsonObject Build(JsonObject receipt, int version)
    {
        var s = new JsonObject { ["v"] = version };
        switch (version)
        {
            case 1:
                s["action"] = Action(receipt, "action");
                s["signer"] = Object(receipt, "signer", ["pubkey", "name", "owner"], []);
                s["ts"] = String(receipt, "ts");
                s["nonce"] = String(receipt, "nonce");
                if (Present(receipt, "policy"))
                {
                    s["policy"] = Object(receipt, "policy", [], PolicyFields);
                }
                if (Present(receipt, "exp"))
                {
                    s["exp"] = String(receipt, "exp");
                }
                break;
            case 2:
                s["action"] = Action(receipt, "action");
                s["response"] = Response(receipt);
                s["signer"] = Object(receipt, "signer", ["pubkey", "name", "owner"], []);
                s["ts_request"] = String(receipt, "ts_request");
                s["ts_response"] = String(receipt, "ts_response");
                s["nonce"] = String(receipt, "nonce");
                break;
            case 3:
                s["agent_receipt"] = EmbeddedAgentReceipt(receipt);
                s["response"] = Response(receipt);
                s["server"] = Object(receipt, "server", ["pubkey", "name"], []);
                s["ts_response"] = String(receipt, "ts_response");
                s["nonce"] = String(receipt, "nonce");
                break;
            case 4:
                s["action"] = Action(receipt, "action");
                s["signer"] = Object(receipt, "signer", ["pubkey", "name", "owner"], []);
                var auth = Object(receipt, "authorization", ["chain_hash", "root_pubkey"], []);
                s["authorization"] = auth;
                s["ts"] = String(receipt, "ts");
                s["nonce"] = String(receipt, "nonce");
                break;
            default:
                throw new ReceiptFormatException($"unsupported receipt version {version}", "v");
        }
        return s;
    }

    /// <summary>The v1 receipt inside a v3, re-serialized from its known fields (id and sig included).</summary>
    private static JsonObject EmbeddedAgentReceipt(JsonObject receipt)
    {
        if (receipt["agent_receipt"] is not JsonObject agent)
        {
            throw new ReceiptFormatException("agent_receipt must be an object", "agent_receipt");
        }
        try
        {
            var inner = Build(agent, 1);
            inner["id"] = String(agent, "id");
            inner["sig"] = String(agent, "sig");
            if (Present(agent, "authorization"))
            {
                inner["authorization"] = agent["authorization"]!.DeepClone();
            }
            return inner;
        }
        catch (ReceiptFormatException e)
        {
            throw new ReceiptFormatException(e.Message, "agent_receipt." + e.Field);
        }
    }

    private static JsonObject Action(JsonObject receipt, string name)
    {
        if (receipt[name] is not JsonObject action)
        {
            throw new ReceiptFormatException($"{name} must be an object", name);
        }
        if (!action.ContainsKey("params"))
        {
            throw new ReceiptFormatException("missing field params", name + ".params");
        }
        var o = new JsonObject { ["params"] = action["params"]?.DeepClone() };
        foreach (var field in ActionRequired)
        {
            o[field] = StringField(action, field, name + "." + field);
        }
        foreach (var field in ActionOptional)
        {
            if (Present(action, field))
            {
                o[field] = StringField(action, field, name + "." + field);
            }
        }
        return o;
    }

    private static JsonObject Response(JsonObject receipt)
    {
        if (receipt["response"] is not JsonObject response)
        {
            throw new ReceiptFormatException("response must be an object", "response");
        }
        var o = new JsonObject { ["content_hash"] = StringField(response, "content_hash", "response.content_hash") };
        if (Present(response, "outcome"))
        {
            if (response["outcome"] is not JsonObject outcome)
            {
                throw new ReceiptFormatException("response.outcome must be an object", "response.outcome");
            }
            var oc = new JsonObject { ["status"] = StringField(outcome, "status", "response.outcome.status") };
            foreach (var field in new[] { "reason", "error" })
            {
                if (Present(outcome, field))
                {
                    oc[field] = StringField(outcome, field, "response.outcome." + field);
                }
            }
            o["outcome"] = oc;
        }
        return o;
    }

    private static JsonObject Object(JsonObject receipt, string name, string[] required, string[] optional)
    {
        if (receipt[name] is not JsonObject obj)
        {
            throw new ReceiptFormatException($"{name} must be an object", name);
        }
        var o = new JsonObject();
        foreach (var field in required)
        {
            o[field] = StringField(obj, field, name + "." + field);
        }
        foreach (var field in optional)
        {
            if (obj.TryGetPropertyValue(field, out var value))
            {
                o[field] = value?.DeepClone();
            }
        }
        return o;
    }

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

    private static bool Present(JsonObject obj, string field) => obj.TryGetPropertyValue(field, out var value) && value is not null;
}
