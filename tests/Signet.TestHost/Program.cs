using System.Globalization;
using System.Text.Json.Nodes;
using Signet.Audit;

// Usage: Signet.TestHost append DIR COUNT durable|fast CONCURRENCY TAG
// Appends COUNT receipts with CONCURRENCY tasks and prints "<record_hash>" on its own line as soon as each append
// has returned (that is, once the record is durable in durable mode). Exits 0 when done, 1 on an error.
if (args.Length != 6 || args[0] != "append")
{
    Console.Error.WriteLine("usage: Signet.TestHost append DIR COUNT durable|fast CONCURRENCY TAG");
    return 2;
}

var directory = args[1];
var count = int.Parse(args[2], CultureInfo.InvariantCulture);
var durability = args[3] == "fast" ? AuditDurability.Fast : AuditDurability.Durable;
var concurrency = int.Parse(args[4], CultureInfo.InvariantCulture);
var tag = args[5];
var stdout = Console.Out;
var gate = new object();
var next = -1;

try
{
    await using var log = AuditLog.Open(directory, new AuditLogOptions { Durability = durability });
    foreach (var torn in log.RecoveredTornTails)
    {
        Console.Error.WriteLine($"recovered torn tail: {torn.File} line {torn.Line} -> {torn.SavedAs}");
    }
    var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
    {
        while (true)
        {
            var i = Interlocked.Increment(ref next);
            if (i >= count)
            {
                return;
            }
            var receipt = new JsonObject
            {
                ["v"] = 1,
                ["id"] = $"rec_{tag}_{i}",
                ["action"] = new JsonObject
                {
                    ["tool"] = "host_tool",
                    ["params"] = new JsonObject { ["i"] = i, ["tag"] = tag, ["pad"] = new string('x', 200) },
                    ["params_hash"] = "sha256:" + new string('0', 64),
                    ["target"] = "mcp://host",
                    ["transport"] = "stdio",
                },
                ["signer"] = new JsonObject { ["pubkey"] = "ed25519:test", ["name"] = tag, ["owner"] = "" },
                ["ts"] = "2026-11-26T12:00:00.000Z",
                ["nonce"] = $"rnd_{i}",
                ["sig"] = "ed25519:none",
            };
            var result = await log.AppendAsync(receipt);
            lock (gate)
            {
                stdout.WriteLine(result.RecordHash);
                stdout.Flush();
            }
        }
    })).ToArray();
    await Task.WhenAll(workers);
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
