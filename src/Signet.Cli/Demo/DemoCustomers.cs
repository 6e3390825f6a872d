using System.Text.Json.Nodes;

namespace Signet.Cli.Demo;

/// <summary>The fixed, invented customer records the demo server's <c>lookup_customer</c> tool, resource and prompt serve.</summary>
internal static class DemoCustomers
{
    private static readonly (string Id, string Name, string Plan, string Country, int OpenTickets)[] Records =
    [
        ("C-1001", "Ada Lovelace", "enterprise", "GB", 2),
        ("C-1002", "Grace Hopper", "team", "US", 0),
        ("C-1003", "Katherine Johnson", "free", "US", 1),
    ];

    /// <summary>The ids in a stable order.</summary>
    public static IEnumerable<string> Ids => Records.Select(r => r.Id);

    /// <summary>The record with this id as a JSON object, or null when there is none.</summary>
    public static JsonObject? Find(string id)
    {
        foreach (var r in Records)
        {
            if (string.Equals(r.Id, id, StringComparison.Ordinal))
            {
                return ToJson(r);
            }
        }
        return null;
    }

    /// <summary>Every record, as a JSON array.</summary>
    public static JsonArray All() => new([.. Records.Select(r => (JsonNode)ToJson(r))]);

    private static JsonObject ToJson((string Id, string Name, string Plan, string Country, int OpenTickets) r) => new()
    {
        ["id"] = r.Id,
        ["name"] = r.Name,
        ["plan"] = r.Plan,
        ["country"] = r.Country,
        ["open_tickets"] = r.OpenTickets,
    };
}
