using System.Text.Json.Nodes;
using Signet.Canonicalization;
using Signet.Mcp.Recording;
using Signet.Receipts;
using Signet.Trust;

namespace Signet.Mcp.Server;

/// <summary>
/// Checks the receipt an agent attached to a <c>tools/call</c>, from any handler: signature and strict checks,
/// trusted key, freshness, target, that the signed tool and arguments are those of the call, and replay.
/// </summary>
/// <remarks>
/// The nonce is spent only after every other check passed, so rejected requests cannot use up nonces. Arguments
/// are compared as the client signs them: <c>params.arguments</c>, or <c>{}</c> when absent. Thread-safe.
/// </remarks>
public sealed class RequestVerifier
{
    private readonly RequestVerifierOptions _options;
    private readonly INonceCache _nonces;

    /// <summary>Creates a verifier.</summary>
    public RequestVerifier(RequestVerifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.TrustedAgentKeys.Count == 0 && !options.AllowAnyAgentKey && options.TrustBundle is null)
        {
            throw new ArgumentException(
                "No trusted agent keys: set TrustedAgentKeys to the agents' public keys, set TrustBundle, or set AllowAnyAgentKey to accept any self-consistent receipt (integrity only).",
                nameof(options));
        }
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.MaxAge, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ClockSkew, TimeSpan.Zero);
        _options = options.Clone();
        _options.TrustedAgentKeys = [.. options.TrustedAgentKeys];
        _nonces = _options.NonceCache ?? new MemoryNonceCache(timeProvider: _options.TimeProvider);
    }

    /// <summary>The settings this verifier runs with (its own copy).</summary>
    public RequestVerifierOptions Options => _options;

    /// <summary>Verifies the receipt in raw <c>tools/call</c> params (<c>name</c>, <c>arguments</c>, <c>_meta</c>).</summary>
    public RequestVerification Verify(JsonObject? callParams)
    {
        var pending = VerifyAsync(callParams, synchronous: true, CancellationToken.None);
        // Synchronous: the nonce cache was asked with TryRecord, so the task has already completed.
        return pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// Verifies the receipt as <see cref="Verify(JsonObject?)"/> does, recording the nonce with
    /// <see cref="INonceCache.TryRecordAsync"/> (a shared store is asked without blocking a thread).
    /// </summary>
    public ValueTask<RequestVerification> VerifyAsync(JsonObject? callParams, CancellationToken cancellationToken = default) =>
        VerifyAsync(callParams, synchronous: false, cancellationToken);

    private async ValueTask<RequestVerification> VerifyAsync(JsonObject? callParams, bool synchronous, CancellationToken cancellationToken)
    {
        var meta = callParams?["_meta"] as JsonObject;
        var keys = new List<string>(2);
        foreach (var k in (string[])[SignetMetaKeys.Receipt, SignetMetaKeys.ReferenceReceipt])
        {
            if (meta?.ContainsKey(k) == true)
            {
                keys.Add(k);
            }
        }
        if (keys.Count == 0)
        {
            return Reject(RequestRejection.Unsigned, $"the call carries no Signet receipt in params._meta (\"{SignetMetaKeys.Receipt}\" or \"{SignetMetaKeys.ReferenceReceipt}\")", null, null, keys);
        }
        var metaKey = keys[0];
        if (meta![metaKey] is not JsonObject json)
        {
            return Reject(RequestRejection.InvalidReceipt, $"params._meta[\"{metaKey}\"] is not a JSON object", null, metaKey, keys);
        }

        var check = ReceiptVerifier.Verify(json, new ReceiptVerificationOptions { TimeProvider = _options.TimeProvider });
        var receipt = check.Receipt ?? Receipt.FromJson(json);
        if (!check.IsValid)
        {
            var kind = check.Field == "exp" ? RequestRejection.NotFresh : RequestRejection.InvalidReceipt;
            return Reject(kind, $"the receipt is invalid: {check.Reason}{(check.Field is null ? "" : $" (field {check.Field})")}", receipt, metaKey, keys);
        }
        if (check.Version != 1)
        {
            return Reject(RequestRejection.InvalidReceipt, $"a tools/call receipt must be v1, not v{check.Version}", receipt, metaKey, keys);
        }

        var trusted = _options.TrustedAgentKeys.Contains(check.SignerKey!);
        if (_options.TrustBundle is { } source)
        {
            TrustBundle bundle;
            try
            {
                bundle = source.Current;
            }
            catch (TrustBundleException e)
            {
                // Fail closed: a revocation that cannot be read must not be ignored.
                return Reject(RequestRejection.UntrustedKey, $"the trust bundle cannot be read, so no key is trusted: {e.Message}", receipt, metaKey, keys);
            }
            if (bundle.Agents.Any(e => e.PublicKey.Equals(check.SignerKey)))
            {
                if (ReceiptTrust.Check(json, bundle, at: null) is { } untrusted)
                {
                    return Reject(RequestRejection.UntrustedKey, $"the receipt is not trusted: {untrusted.Reason}", receipt, metaKey, keys);
                }
                // A call runs now: a key whose trust has ended is refused whatever ts its receipt claims (a stolen key
                // can date a receipt before its revocation, and freshness alone would let that through for MaxAge).
                if (ReceiptTrust.Check(json, bundle, at: _options.TimeProvider.GetUtcNow()) is { } endedNow)
                {
                    return Reject(RequestRejection.UntrustedKey, $"the key is no longer trusted for calls arriving now: {endedNow.Reason}", receipt, metaKey, keys);
                }
                trusted = true;
            }
        }
        if (!trusted && !_options.AllowAnyAgentKey)
        {
            return Reject(RequestRejection.UntrustedKey, $"the receipt is signed by {check.SignerKey}, which is not a trusted agent key", receipt, metaKey, keys);
        }

        var now = _options.TimeProvider.GetUtcNow();
        var tsText = ToolCallOutcome.Text(json["ts"])!;
        ReceiptText.TryParseTimestamp(tsText, out var ts);
        if (ts < now - _options.MaxAge)
        {
            return Reject(RequestRejection.NotFresh, $"the receipt was signed at {tsText}, more than {_options.MaxAge.TotalSeconds:0} s ago", receipt, metaKey, keys);
        }
        if (ts > now + _options.ClockSkew)
        {
            return Reject(RequestRejection.NotFresh, $"the receipt is dated {tsText}, more than {_options.ClockSkew.TotalSeconds:0} s in the future (check the agent's clock)", receipt, metaKey, keys);
        }

        var action = json["action"]!.AsObject();
        var target = ToolCallOutcome.Text(action["target"]);
        if (_options.ExpectedTarget is { } expected && target != expected)
        {
            return Reject(RequestRejection.WrongTarget, $"the receipt is for target {target}, not {expected}", receipt, metaKey, keys);
        }

        var tool = ToolCallOutcome.Text(callParams!["name"]);
        var signedTool = ToolCallOutcome.Text(action["tool"]);
        if (signedTool != tool)
        {
            return Reject(RequestRejection.CallMismatch, $"the receipt signs tool \"{signedTool}\", but the call is to \"{tool}\"", receipt, metaKey, keys);
        }
        if (!ArgumentsMatch(action["params"], callParams["arguments"], out var why))
        {
            return Reject(RequestRejection.CallMismatch, why, receipt, metaKey, keys);
        }

        var nonce = ToolCallOutcome.Text(json["nonce"])!;
        bool fresh;
        try
        {
            var expiresAt = ts + _options.MaxAge + _options.ClockSkew;
            fresh = synchronous
                ? _nonces.TryRecord(check.SignerKey!.Text, nonce, expiresAt)
                : await _nonces.TryRecordAsync(check.SignerKey!.Text, nonce, expiresAt, cancellationToken).ConfigureAwait(false);
        }
        catch (NonceCacheUnavailableException e)
        {
            return Reject(RequestRejection.NonceCacheUnavailable, e.Message, receipt, metaKey, keys);
        }
        if (!fresh)
        {
            return Reject(RequestRejection.Replayed, $"the receipt {receipt.Id} (nonce {nonce}) was already used: a replayed request", receipt, metaKey, keys);
        }

        return new RequestVerification { IsValid = true, Receipt = receipt, MetaKey = metaKey, MetaKeys = keys, IsTrusted = trusted };
    }

    private static bool ArgumentsMatch(JsonNode? signed, JsonNode? actual, out string why)
    {
        why = "";
        try
        {
            if (JsonCanonicalizer.Sha256(signed ?? new JsonObject()) == JsonCanonicalizer.Sha256(actual ?? new JsonObject()))
            {
                return true;
            }
            why = "the receipt signs other arguments than the call carries";
        }
        catch (SignetException e)
        {
            why = $"the call's arguments cannot be compared with the receipt: {e.Message}";
        }
        return false;
    }

    private static RequestVerification Reject(RequestRejection rejection, string reason, Receipt? receipt, string? metaKey, IReadOnlyList<string> keys) => new()
    {
        IsValid = false,
        Rejection = rejection,
        Reason = reason,
        Receipt = receipt,
        MetaKey = metaKey,
        MetaKeys = keys,
    };
}
