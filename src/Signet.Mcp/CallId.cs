using System.Globalization;
using System.Text.Json.Nodes;

namespace Signet.Mcp;

/// <summary>Signet's <c>call_id</c> form of a JSON-RPC id: <c>n:&lt;number&gt;</c> or <c>s:&lt;string&gt;</c>, as the reference proxy writes it.</summary>
/// <remarks>
/// A number keeps the lexeme the client sent (<c>n:1.0</c>, <c>n:-0</c>): that is what is signed. A server may echo
/// it in another form (a JavaScript server answers <c>1.0</c> as <c>1</c> and 2^53+1 as 2^53), so responses are matched
/// by <see cref="PendingCalls{T}"/>: by the exact call id first, then by <see cref="NumericKey"/>.
/// </remarks>
public static class CallId
{
    /// <summary>The call id of a JSON-RPC id node, or null when the id is missing or not a string or number.</summary>
    public static string? From(JsonNode? id)
    {
        if (id is not JsonValue value)
        {
            return null;
        }
        try
        {
            return value.GetValueKind() switch
            {
                System.Text.Json.JsonValueKind.String => "s:" + value.GetValue<string>(),
                System.Text.Json.JsonValueKind.Number => "n:" + value.ToJsonString(),
                _ => null,
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
        {
            // A value that cannot be read as text (e.g. bytes that are not UTF-8) names no call.
            return null;
        }
    }

    /// <summary>The call id of an integer id.</summary>
    public static string From(long id) => "n:" + id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The call id of a string id.</summary>
    public static string From(string id) => "s:" + id;

    /// <summary>
    /// The numeric value of a number call id as a key (the shortest round-trip form of the nearest double, <c>-0</c>
    /// as <c>0</c>), so that <c>n:1.0</c>, <c>n:1</c> and <c>n:1E0</c> share one key; null for a string call id or a
    /// lexeme that is not a finite number.
    /// </summary>
    public static string? NumericKey(string callId)
    {
        ArgumentNullException.ThrowIfNull(callId);
        if (!callId.StartsWith("n:", StringComparison.Ordinal)
            || !double.TryParse(callId.AsSpan(2), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value)
            || !double.IsFinite(value))
        {
            return null;
        }
        return value == 0 ? "0" : value.ToString("R", CultureInfo.InvariantCulture);
    }
}
