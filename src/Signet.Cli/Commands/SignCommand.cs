using System.CommandLine;
using System.Globalization;
using Signet.Canonicalization;
using Signet.Receipts;

namespace Signet.Cli.Commands;

/// <summary><c>signet sign</c>: a v1 receipt for one tool call, on stdout (and appended to the audit log).</summary>
internal static class SignCommand
{
    public static Command Create(CliConsole console)
    {
        var keys = new KeyOptions();
        var home = CommonOptions.Home();
        var tool = new Option<string>("--tool") { Description = "The tool name", Required = true };
        var parameters = new Option<string?>("--params") { Description = "The arguments as JSON, or @FILE to read them from a file (default {})" };
        var target = new Option<string>("--target") { Description = "The tool server, as a URI", DefaultValueFactory = _ => "cli://local" };
        var transport = new Option<string>("--transport") { Description = "How the call travels", DefaultValueFactory = _ => "stdio" };
        var session = new Option<string?>("--session") { Description = "The session the call belongs to" };
        var callId = new Option<string?>("--call-id") { Description = "The call id (e.g. n:7)" };
        var traceId = new Option<string?>("--trace-id") { Description = "A workflow id that groups receipts" };
        var parent = new Option<string?>("--parent-receipt-id") { Description = "The receipt this one follows" };
        var expires = new Option<string?>("--expires") { Description = "Expiry: a duration (30m, 1h, 7d) or an RFC 3339 time" };
        var hashOnly = new Option<bool>("--hash-only") { Description = "Keep only the hash of the arguments in the receipt, not the arguments" };
        var noLog = new Option<bool>("--no-log") { Description = "Do not append the receipt to the audit log" };
        var command = new Command("sign", "Sign a v1 receipt for a tool call and print it")
        {
            tool, parameters, target, transport, session, callId, traceId, parent, expires, hashOnly, noLog, home,
        };
        keys.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var args = ReadParams(parse.GetValue(parameters));
            var action = new ReceiptAction
            {
                Tool = parse.GetValue(tool)!,
                Params = parse.GetValue(hashOnly) ? null : args,
                ParamsHash = parse.GetValue(hashOnly) ? ReceiptSigner.ParamsHash(args) : null,
                Target = parse.GetValue(target)!,
                Transport = parse.GetValue(transport)!,
                Session = parse.GetValue(session),
                CallId = parse.GetValue(callId),
                TraceId = parse.GetValue(traceId),
                ParentReceiptId = parse.GetValue(parent),
            };
            var expiry = ParseExpiry(parse.GetValue(expires), console.Time);

            var homeDir = CommonOptions.ResolveHome(parse.GetValue(home), console);
            using var key = keys.Load(parse, homeDir, console);
            var signer = new ReceiptSigner(key.Key, key.Name, key.Owner, console.Time);
            var receipt = signer.SignRequest(action, expiry);
            if (!parse.GetValue(noLog))
            {
                await LogSink.AppendAsync(homeDir, receipt, console, ct);
            }
            await console.Out.WriteLineAsync(receipt.ToJsonString());
            return SignetCli.Ok;
        });
        return command;
    }

    private static System.Text.Json.Nodes.JsonNode? ReadParams(string? value)
    {
        if (value is null)
        {
            return new System.Text.Json.Nodes.JsonObject();
        }
        var source = "--params";
        if (value.StartsWith('@'))
        {
            source = value[1..];
            if (!File.Exists(source))
            {
                throw new SignetException($"{source}: no such file (from --params @FILE)");
            }
            value = File.ReadAllText(source);
        }
        try
        {
            return StrictJson.Parse(value.Trim());
        }
        catch (JsonParseException e)
        {
            throw new CliUsageException($"{source}: {e.Message}");
        }
    }

    internal static DateTimeOffset? ParseExpiry(string? value, TimeProvider time)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        if (value.Length >= 2 && char.IsAsciiDigit(value[0]) && value[^1] is 's' or 'm' or 'h' or 'd' &&
            int.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            var span = value[^1] switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                _ => TimeSpan.FromDays(n),
            };
            return time.GetUtcNow() + span;
        }
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at;
        }
        throw new CliUsageException($"--expires {value}: give a duration such as 30m, 1h or 7d, or an RFC 3339 time");
    }
}
