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
        var parameters = new Option<string?>("--params") { Description = "The arguments as JSON, @FILE to read them from a JSON file, or - to read them from stdin (default {})" };
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
            var args = await ReadParams(parse.GetValue(parameters), console, ct);
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
            var signer = new ReceiptSigner(key.Signer, key.Name, key.Owner, console.Time);
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

    /// <summary>
    /// The arguments: inline JSON (malformed is a usage error, exit 2), or <c>@FILE</c> / <c>-</c> (stdin), whose
    /// content is input the command reads (missing or malformed is a runtime error naming the file, exit 1).
    /// </summary>
    private static async Task<System.Text.Json.Nodes.JsonNode?> ReadParams(string? value, CliConsole console, CancellationToken ct)
    {
        if (value is null)
        {
            return new System.Text.Json.Nodes.JsonObject();
        }
        if (value != "-" && !value.StartsWith('@'))
        {
            try
            {
                return StrictJson.Parse(value.Trim());
            }
            catch (JsonParseException e)
            {
                throw new CliUsageException($"--params: {e.Message}");
            }
        }

        string source;
        byte[] bytes;
        if (value == "-")
        {
            source = "--params - (stdin)";
            bytes = System.Text.Encoding.UTF8.GetBytes(await console.In.ReadToEndAsync(ct));
        }
        else
        {
            var path = value[1..];
            if (path.Length == 0)
            {
                throw new CliUsageException("--params @: give a file name after @ (--params @args.json), or - to read stdin");
            }
            var full = Path.GetFullPath(path, console.WorkingDirectory);
            source = path;
            if (!File.Exists(full))
            {
                throw new SignetException(Directory.Exists(full)
                    ? $"{path}: is a directory, not a JSON file (from --params @{path})"
                    : $"{path}: no such file (from --params @{path}; the path is relative to {console.WorkingDirectory})");
            }
            try
            {
                bytes = await File.ReadAllBytesAsync(full, ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SignetException($"{path}: cannot be read (from --params @{path}): {e.Message}", e);
            }
        }
        var text = bytes.AsSpan();
        if (text.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            text = text[3..];
        }
        try
        {
            return StrictJson.Parse(text.Trim("\r\n\t "u8));
        }
        catch (JsonParseException e)
        {
            throw new SignetException($"{source}: {e.Message}");
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
