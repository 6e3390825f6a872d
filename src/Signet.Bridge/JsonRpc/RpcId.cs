using System.Globalization;
using System.Text.Json;

namespace Signet.Bridge.JsonRpc;

/// <summary>
/// The key under which the bridge matches a JSON-RPC id (or progress token) to the answer the backend sends back: the
/// one place where the bridge decides which two ids are "the same".
/// </summary>
/// <remarks>
/// A backend echoes a numeric id as it parsed it: a JavaScript server sends <c>1.0</c> back as <c>1</c>, <c>-0</c> as
/// <c>0</c>, 9007199254740993 as 9007199254740992 and a 30-digit integer in exponent form, while a server that keeps
/// integers exact echoes the lexeme the client sent. Numbers are therefore keyed by their value as a 64-bit float, which
/// both echoes map to; two ids in flight that share that value are refused rather than confused. Strings are keyed by
/// their decoded value, so escapes do not matter. The receipt's signed <c>call_id</c> is not this key: it stays the lexeme
/// the client sent.
/// </remarks>
internal static class RpcId
{
    /// <summary>The match key of an id or token, or null when it cannot be matched (not a string or finite number, or unreadable text).</summary>
    public static string? MatchKey(JsonElement id)
    {
        switch (id.ValueKind)
        {
            case JsonValueKind.String:
                try
                {
                    return "s:" + id.GetString();
                }
                catch (InvalidOperationException)
                {
                    // A lone surrogate escape or invalid UTF-8: no backend can echo it back faithfully.
                    return null;
                }
            case JsonValueKind.Number:
                return NumberKey(id.GetRawText());
            default:
                return null;
        }
    }

    /// <summary>The match key of a raw id (JSON text), or null when it cannot be matched.</summary>
    public static string? MatchKey(ReadOnlySpan<byte> rawId)
    {
        try
        {
            using var doc = JsonDocument.Parse(rawId.ToArray());
            return MatchKey(doc.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The match key of a numeric id's lexeme, or null when it overflows a 64-bit float.</summary>
    public static string? NumberKey(string lexeme)
    {
        if (!double.TryParse(lexeme, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            return null;
        }
        return "n:" + (value == 0 ? "0" : value.ToString("R", CultureInfo.InvariantCulture));
    }
}
