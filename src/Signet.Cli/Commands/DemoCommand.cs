using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Audit;
using Signet.Keys;
using Signet.Cli.Config;
using McpClient = ModelContextProtocol.Client.McpClient;
using Signet.Receipts;

namespace Signet.Cli.Commands;

/// <summary>
/// <c>signet demo</c>: the whole flow on built-in defaults. A throwaway home and key; an MCP client calling a real
/// tool server (ours, <c>signet demo-server</c>) through a real <c>signet proxy</c> process; the receipts; the chain
/// verified; a tampered copy caught at the exact line.
/// </summary>
internal static class DemoCommand
{
    private const string KeyName = "demo-agent";

    public static Command Create(CliConsole console)
    {
        var keep = new Option<bool>("--keep") { Description = "Keep the demo home afterwards (its path is printed)" };
        var home = new Option<string?>("--home") { Description = "Run in this (new or empty) directory instead of a temporary one" };
        var command = new Command("demo", "Run the whole flow on a bundled demo tool server, in a temporary home") { keep, home };
        command.SetAction(async (parse, ct) =>
        {
            var explicitHome = parse.GetValue(home);
            var dir = explicitHome is null
                ? Directory.CreateTempSubdirectory("signet-demo-").FullName
                : Path.GetFullPath(explicitHome);
            Directory.CreateDirectory(dir);
            try
            {
                return await RunAsync(dir, kept: explicitHome is not null || parse.GetValue(keep), console, ct);
            }
            finally
            {
                if (explicitHome is null && !parse.GetValue(keep))
                {
                    TryDelete(dir);
                }
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(string home, bool kept, CliConsole console, CancellationToken ct)
    {
        var o = console.Out;
        await o.WriteLineAsync("Signet demo: every MCP tool call signed before it is forwarded, logged in a hash chain you hold,");
        await o.WriteLineAsync("and verifiable offline by anyone.");
        await o.WriteLineAsync();

        // 1. A key.
        var store = KeyStore.ForHome(home, console.Time);
        var info = store.CreateUnencrypted(KeyName, owner: "demo");
        await o.WriteLineAsync("1. A signing key");
        await o.WriteLineAsync($"   home  {home}  (a throwaway home; ~/.signet is not touched)");
        await o.WriteLineAsync($"   key   {KeyName}  {info.PublicKey}  (unencrypted: for the demo only; real keys are encrypted)");
        await o.WriteLineAsync();

        // 2. A real MCP client, a real signet proxy process, a real tool server process.
        var launcher = SignetLauncher.Resolve(null, null, Environment.ProcessPath, SignetLauncher.RunningSignetDll());
        var self = launcher.PrefixArguments.ToList();
        var proxyArgs = new List<string>(self) { "proxy", "--home", home, "--key", KeyName, "--name", "demo", "--target", "mcp://demo-server", "--" };
        proxyArgs.Add(launcher.Command);
        proxyArgs.AddRange(self);
        proxyArgs.Add("demo-server");

        await o.WriteLineAsync("2. An MCP client calls tools through `signet proxy`");
        await o.WriteLineAsync("   client --stdio--> signet proxy (signs, logs, then forwards) --stdio--> signet demo-server");
        var stderr = new List<string>();
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "signet-demo",
            Command = launcher.Command,
            Arguments = proxyArgs,
            EnvironmentVariables = new Dictionary<string, string?> { ["SIGNET_PASSPHRASE"] = null, ["SIGNET_KEY"] = null },
            StandardErrorLines = line => { lock (stderr) { stderr.Add(line); } },
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });
        try
        {
            await using var client = await McpClient.CreateAsync(transport, new McpClientOptions
            {
                ClientInfo = new Implementation { Name = "signet-demo-client", Version = "1.0" },
                ProtocolVersion = "2025-11-25",
            }, cancellationToken: ct);

            await Call(client, o, "echo", new() { ["message"] = "hello, auditor" }, ct);
            await Call(client, o, "add", new() { ["a"] = 2, ["b"] = 40 }, ct);
            await Call(client, o, "lookup_customer", new() { ["id"] = "C-1001" }, ct);
            await Call(client, o, "fail", new() { ["reason"] = "disk quota exceeded" }, ct);
            // Progress through a session-wide handler: the SDK client drops a per-call handler as soon as the response
            // arrives, and with it a last notification still being dispatched.
            const string token = "demo-count";
            var progress = new ProgressCounter(token, expected: 3);
            await using (client.RegisterNotificationHandler(NotificationMethods.ProgressNotification, progress.OnNotificationAsync))
            {
                var counted = await client.CallToolAsync("count", new Dictionary<string, object?> { ["to"] = 3 }, options: new RequestOptions { ProgressToken = new ProgressToken(token) }, cancellationToken: ct);
                await progress.All.WaitAsync(TimeSpan.FromSeconds(30), ct);
                await o.WriteLineAsync($"   OK    count {{\"to\":3}}  -> {Summary(counted)}  ({progress.Count} progress notifications passed through)");
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await console.Error.WriteLineAsync($"signet demo: the MCP flow failed: {e.Message}");
            string[] tail;
            lock (stderr)
            {
                tail = [.. stderr.TakeLast(20)];
            }
            foreach (var text in tail)
            {
                await console.Error.WriteLineAsync("   | " + text);
            }
            return SignetCli.Failed;
        }
        await o.WriteLineAsync();

        // 3. The receipts.
        var audit = SignetHome.AuditDirectory(home);
        var entries = AuditQuery.Read(audit).ToList();
        await o.WriteLineAsync($"3. The receipts, in {audit}");
        await o.WriteLineAsync("   #   v   receipt id                            tool              what it proves");
        var n = 0;
        foreach (var entry in entries)
        {
            n++;
            var receipt = Receipt.FromJson(entry.Receipt);
            var meaning = receipt.Version switch
            {
                1 => "the request, signed and on disk before it was forwarded",
                2 => "request + response hash, outcome " + ((receipt.Json["response"] as JsonObject)?["outcome"]?["status"]?.GetValue<string>() ?? "-"),
                3 => "the server's co-signature",
                _ => "",
            };
            await o.WriteLineAsync($"   {n,-3} v{receipt.Version}  {receipt.Id,-37} {receipt.Tool,-17} {meaning}");
        }
        await o.WriteLineAsync();

        // 4. Verify: the chain, and every signature against the demo key.
        var result = AuditVerifier.Verify(audit, new AuditVerifyOptions { VerifySignatures = true, TrustedKeys = [info.PublicKey] });
        await o.WriteLineAsync("4. Verify the log, as an auditor would (`signet log verify`)");
        if (!result.IsValid)
        {
            await o.WriteLineAsync($"   FAIL  {result.Break?.Message ?? string.Join("; ", result.SignatureFailures.Select(f => $"{f.File}:{f.Line} {f.Reason}"))}");
            return SignetCli.Failed;
        }
        await o.WriteLineAsync($"   OK    {result.RecordCount} records, hash chain intact, {result.SignaturesChecked} signatures valid and signed by the trusted key");
        await o.WriteLineAsync($"         tip {result.TipHash}");
        await o.WriteLineAsync();

        // 5. Tamper with a copy and watch verification catch it.
        var copy = Path.Combine(home, "tampered-audit");
        CopyDirectory(audit, copy);
        var (file, line, before, after) = TamperWithAdd(copy);
        var tampered = AuditVerifier.Verify(copy);
        await o.WriteLineAsync("5. Someone edits the log: a copy where add's argument b is changed");
        await o.WriteLineAsync($"   {Path.GetFileName(file)} line {line}: {before}  ->  {after}");
        if (tampered.IsIntact)
        {
            await o.WriteLineAsync("   the tampered copy still verifies: this is a bug, please report it");
            return SignetCli.Failed;
        }
        await o.WriteLineAsync($"   FAIL  {Path.GetFileName(tampered.Break!.File)} line {tampered.Break.Line} ({tampered.Break.Kind}): {tampered.Break.Message}");
        await o.WriteLineAsync("   The edit is caught at the exact line; the original log still verifies.");
        await o.WriteLineAsync();
        var signet = CommandPrefix(AppContext.BaseDirectory, console.WorkingDirectory, Environment.ProcessPath,
            SignetLauncher.RunningSignetDll(), console.GetEnvironmentVariable("PATH"));
        if (kept)
        {
            await o.WriteLineAsync($"The demo home is kept. Look for yourself: `{signet} log show --home {Quote(home)}` lists the calls,");
            await o.WriteLineAsync($"`{signet} log verify --home {Quote(home)} --pubkey {info.PublicKey}` checks the chain and every signature.");
        }
        else
        {
            await o.WriteLineAsync("The demo home is deleted now. To look for yourself, run the demo with --keep and then, with the home and key it prints:");
            await o.WriteLineAsync($"  {signet} demo --keep");
            await o.WriteLineAsync($"  {signet} log show --home HOME");
            await o.WriteLineAsync($"  {signet} log verify --home HOME --pubkey KEY");
        }
        await o.WriteLineAsync();
        await o.WriteAsync(NextSteps(signet));
        return SignetCli.Ok;
    }

    /// <summary>
    /// The closing hint. Run from a build (<c>dotnet run</c>) it says to install the tool before <c>wrap</c>, which
    /// writes only an installed tool's path into client configs.
    /// </summary>
    internal static string NextSteps(string signet) =>
        $"Next: `{signet} key new NAME`, then put `signet proxy -- <your server>` in your MCP client's config\n" +
        (signet.StartsWith("dotnet run ", StringComparison.Ordinal)
            ? "(or install the tool, `bash pack.sh && dotnet tool install -g Signet.Cli --add-source out/tool`, and let\n" +
              "`signet wrap CONFIG` do it). See README.md and docs/.\n"
            : $"(or let `{signet} wrap CONFIG` do it: it writes the command that starts this signet). See README.md and docs/.\n");

    /// <summary>
    /// How the user runs this signet again from <paramref name="workingDirectory"/>: <c>dotnet run --project … --</c>
    /// when it runs from the build output of the source tree (<c>src/Signet.Cli/bin/…</c>, as after <c>dotnet run</c>),
    /// <c>signet</c> when it is the .NET tool on PATH, else the full command of the running program.
    /// </summary>
    internal static string CommandPrefix(string baseDirectory, string workingDirectory, string? processPath, string? signetDll, string? pathVariable)
    {
        var bin = Path.GetFullPath(baseDirectory);
        for (var dir = Directory.GetParent(bin); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Signet.Cli.csproj")))
            {
                var output = Path.Combine(dir.FullName, "bin") + Path.DirectorySeparatorChar;
                if (bin.StartsWith(output, StringComparison.Ordinal) || (bin + Path.DirectorySeparatorChar).StartsWith(output, StringComparison.Ordinal))
                {
                    var project = Path.GetRelativePath(Path.GetFullPath(workingDirectory), dir.FullName);
                    if (project == ".." || project.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                    {
                        project = dir.FullName; // outside the working directory: an absolute path reads better than ../../…
                    }
                    return $"dotnet run --project {Quote(project)} --";
                }
                break;
            }
        }
        try
        {
            var launcher = SignetLauncher.Resolve(null, pathVariable, processPath, signetDll);
            if (launcher.PrefixArguments.Count == 0 && OnPath(launcher.Command, pathVariable))
            {
                return "signet";
            }
            return string.Join(' ', launcher.PrefixArguments.Prepend(launcher.Command).Select(Quote));
        }
        catch (McpConfigException)
        {
            return "signet";
        }
    }

    private static bool OnPath(string command, string? pathVariable) =>
        Path.GetFileNameWithoutExtension(command).Equals("signet", StringComparison.OrdinalIgnoreCase)
        && (pathVariable ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(d => string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(d.Trim('"'))), Path.GetDirectoryName(command), StringComparison.Ordinal));

    /// <summary>A word as a POSIX shell reads it back.</summary>
    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or ':' or '=' or '+' or ',' or '@')
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static async Task Call(McpClient client, TextWriter o, string tool, Dictionary<string, object?> args, CancellationToken ct)
    {
        var result = await client.CallToolAsync(tool, args, cancellationToken: ct);
        var shown = JsonSerializer.Serialize(args, CliJsonArgs.Default.DictionaryStringObject);
        await o.WriteLineAsync($"   {(result.IsError == true ? "ERROR" : "OK   ")} {tool} {shown}  -> {Summary(result)}{(result.IsError == true ? "  (a tool error: recorded with outcome \"failed\")" : "")}");
    }

    private static string Summary(CallToolResult result)
    {
        var text = result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text ?? "(no text)";
        text = text.ReplaceLineEndings(" ");
        return text.Length > 60 ? text[..57] + "..." : text;
    }

    private static (string File, int Line, string Before, string After) TamperWithAdd(string auditCopy)
    {
        foreach (var file in Directory.GetFiles(auditCopy, "*.jsonl").Order(StringComparer.Ordinal))
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].Contains("\"tool\":\"add\"", StringComparison.Ordinal) && lines[i].Contains("\"b\":40", StringComparison.Ordinal))
                {
                    lines[i] = lines[i].Replace("\"b\":40", "\"b\":4000", StringComparison.Ordinal);
                    File.WriteAllText(file, string.Join('\n', lines) + "\n");
                    return (file, i + 1, "\"b\":40", "\"b\":4000");
                }
            }
        }
        throw new SignetException("demo: no add receipt found to tamper with");
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*.jsonl"))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed class ProgressCounter(string token, int expected)
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public Task All => _all.Task;

        public ValueTask OnNotificationAsync(JsonRpcNotification notification, CancellationToken cancellationToken)
        {
            if ((notification.Params?["progressToken"] as JsonValue)?.TryGetValue<string>(out var t) == true && t == token && Interlocked.Increment(ref _count) >= expected)
            {
                _all.TrySetResult();
            }
            return ValueTask.CompletedTask;
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, object?>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(int))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class CliJsonArgs : System.Text.Json.Serialization.JsonSerializerContext;
