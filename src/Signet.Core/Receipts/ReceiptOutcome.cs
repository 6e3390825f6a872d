using System.Text.Json.Nodes;

namespace Signet.Receipts;

/// <summary>The result of a call, as a v2 or v3 receipt records it.</summary>
/// <param name="Status"><c>verified</c>, <c>rejected</c>, <c>requires_approval</c>, <c>executed</c> or <c>failed</c>.</param>
/// <param name="Reason">Why, for rejections.</param>
/// <param name="Error">The error text, for failures.</param>
public sealed record ReceiptOutcome(string Status, string? Reason = null, string? Error = null)
{
    /// <summary>The tool ran and answered normally.</summary>
    public static ReceiptOutcome Executed { get; } = new("executed");

    /// <summary>The tool failed (a JSON-RPC error or <c>isError</c>).</summary>
    public static ReceiptOutcome Failed(string? error) => new("failed", Error: error);

    internal JsonObject ToJson()
    {
        var o = new JsonObject { ["status"] = Status };
        if (Reason is not null)
        {
            o["reason"] = Reason;
        }
        if (Error is not null)
        {
            o["error"] = Error;
        }
        return o;
    }
}
