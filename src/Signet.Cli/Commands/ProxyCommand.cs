using System.CommandLine;
using Microsoft.Extensions.Logging;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Cli.Logging;
using Signet.Cli.Proxy;
using Signet.Keys;
using Signet.Mcp;
using Signet.Mcp.Recording;
using Signet.Receipts;
using Signet.Transparency;

namespace Signet.Cli.Commands;

/// <summary>
/// <c>signet proxy</c>: stands in for an MCP server on stdio, launches the real one (or reaches it by URL), and signs
/// every tools/call on the way.
/// </summary>
internal static class ProxyCommand
{
    public const string Name = "proxy";

    /// <summary>The programs whose first argument names the server better than they do (<c>node server.js</c>).</summary>
    private static readonly HashSet<string> Launchers = new(StringComparer.OrdinalIgnoreCase)
    {
        "node", "npx", "pnpm", "pnpx", "yarn", "bun", "bunx", "deno", "python", "python3", "py", "uv", "uvx", "pipx",
        "dotnet", "java", "ruby", "php", "sh", "bash", "cmd", "docker", "podman",
    };

    public static Command Create(CliConsole console)
    {
        var keys = new KeyOptions();
        var home = CommonOptions.Home();
        var signerName = new Option<string?>("--name") { Description = "Signer name written into receipts (default: the key's name)" };
        var target = new Option<string?>("--target") { Description = "Target URI written into receipts (default: mcp://<server program>, or the --url)" };
        var durability = new Option<string>("--durability")
        {
            Description = "durable: a call is forwarded only after its receipt is fsync'ed, and its response's receipt is fsync'ed with the next call's or within 100 ms (default); fast: flushed to the OS, fsync'ed on a short timer",
            DefaultValueFactory = _ => "durable",
        };
        durability.AcceptOnlyFromAmong("durable", "fast");
        var recordingOptions = new RecordingOptions();
        var url = new Option<string?>("--url") { Description = "Forward to a remote Streamable HTTP MCP server instead of launching a command" };
        var headers = new Option<string[]>("--header") { Description = "HTTP header for --url, as K=V (repeatable)", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false };
        var logFile = new Option<string?>("--log-file") { Description = "Also append the proxy's logs to FILE (they always go to stderr, never stdout)" };
        var verbose = new Option<bool>("--verbose") { Description = "Log at Trace level (every call, the child's lifecycle, and payloads: keep such logs private)" };
        var maxLineBytes = new Option<int>("--max-line-bytes")
        {
            Description = "Longest message accepted from the client; a longer one is refused (default 64 MiB)",
            DefaultValueFactory = _ => LineProxyOptions.DefaultMaxLineBytes,
        };
        var transparency = new TransparencyOptions();
        var checkpointInterval = TransparencyOptions.Interval();
        var commandLine = new Argument<string[]>("command")
        {
            Description = "The MCP server's command and arguments, after --",
            Arity = ArgumentArity.ZeroOrMore,
        };

        var command = new Command(Name, "Sign every tools/call between an MCP client and a server: signet proxy [options] -- COMMAND [ARGS...]")
        {
            home, signerName, target, durability, url, headers, logFile, verbose, maxLineBytes, checkpointInterval, commandLine,
        };
        keys.AddTo(command);
        recordingOptions.AddTo(command);
        transparency.AddTo(command);

        command.SetAction(async (parse, ct) =>
        {
            var server = parse.GetValue(commandLine) ?? [];
            var endpoint = parse.GetValue(url);
            if (endpoint is null && server.Length == 0)
            {
                throw new CliUsageException("give the MCP server to run after '--' (signet proxy [options] -- COMMAND [ARGS...]) or --url URL");
            }
            if (endpoint is not null && server.Length > 0)
            {
                throw new CliUsageException("give either a command after '--' or --url, not both");
            }
            Uri? endpointUri = null;
            if (endpoint is not null && (!Uri.TryCreate(endpoint, UriKind.Absolute, out endpointUri) || endpointUri.Scheme is not ("http" or "https")))
            {
                throw new CliUsageException($"--url must be an absolute http:// or https:// URL, not \"{endpoint}\"");
            }
            var headerMap = ParseHeaders(parse.GetValue(headers) ?? []);
            if (headerMap.Count > 0 && endpointUri is null)
            {
                throw new CliUsageException("--header applies only with --url");
            }
            var interval = transparency.ResolveInterval(parse, checkpointInterval);
            var limit = parse.GetValue(maxLineBytes);
            if (limit < 1024)
            {
                throw new CliUsageException("--max-line-bytes must be at least 1024");
            }

            using var logging = CliLogging.CreateStderrFactory(console.Error, "signet proxy", parse.GetValue(verbose), parse.GetValue(logFile));
            var logger = logging.CreateLogger("Signet.Proxy");
            var homeDirectory = CommonOptions.ResolveHome(parse.GetValue(home), console);

            // The client owns stdin: never prompt. Say exactly what to put in the client's config instead.
            var noTerminal = new CliConsole
            {
                In = TextReader.Null,
                Out = console.Error,
                Error = console.Error,
                GetEnvironmentVariable = console.GetEnvironmentVariable,
                IsInteractive = false,
                Time = console.Time,
            };
            using var key = LoadKey(keys, parse, homeDirectory, noTerminal);

            var targetUri = parse.GetValue(target) ?? endpointUri?.ToString() ?? DefaultTarget(server);
            var traffic = new LineProxyOptions { MaxLineBytes = limit };
            var settings = new SignetOptions
            {
                Signer = new ReceiptSigner(key.Signer, parse.GetValue(signerName) ?? key.Name, key.Owner, console.Time),
                Target = targetUri,
                Transport = endpointUri is null ? "stdio" : "http",
                LoggerFactory = logging,
            };
            recordingOptions.ApplyTo(parse, settings);
            await using var recording = Recording.Open(settings, homeDirectory, parse.GetValue(durability) == "fast", console.Time, logging);
            // After the log: on exit the log is closed first, so the last checkpoint covers every receipt.
            recording.Checkpoints = recording.Log is { } log
                ? transparency.Start(parse, noTerminal, log, key.Signer, interval, logging)
                : null;
            var recorder = recording.Recorder;

            if (endpointUri is not null)
            {
                return await HttpBackendProxy.RunAsync(
                    new HttpBackendProxyOptions { Endpoint = endpointUri, Headers = headerMap, Traffic = traffic },
                    recorder, console.OpenStandardInput(), console.OpenStandardOutput(), logging, ct);
            }

            var options = new StdioProxyOptions
            {
                Command = server[0],
                Arguments = server[1..],
                ForwardSignals = true,
                Traffic = traffic,
            };
            return await StdioProxy.RunAsync(options, recorder, console.OpenStandardInput(), console.OpenStandardOutput(), logger, ct);
        });
        return command;
    }

    /// <summary>
    /// Puts back the <c>--</c> before the server's command when a launcher dropped it (the MCP Inspector's CLI passes
    /// <c>signet proxy [options] COMMAND ARGS…</c>): the first argument that is neither a proxy option nor an option's
    /// value starts the server's command line, which is then passed on as it is, options such as <c>-y</c> included.
    /// Other command lines are returned unchanged.
    /// </summary>
    internal static string[] WithSeparator(string[] args, Command root)
    {
        if (args.Length < 2 || args[0] != Name || args.Contains("--") || root.Subcommands.FirstOrDefault(c => c.Name == Name) is not { } proxy)
        {
            return args;
        }
        for (var i = 1; i < args.Length; i++)
        {
            var token = args[i];
            if (!token.StartsWith('-') || token == "-")
            {
                return [.. args[..i], "--", .. args[i..]];
            }
            var name = token.Split('=', 2)[0];
            var option = proxy.Options.FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name));
            if (option is null || token.Contains('='))
            {
                continue; // an unknown option is reported by the parser; --opt=value carries its value
            }
            var takesValue = option.ValueType == typeof(bool)
                ? i + 1 < args.Length && bool.TryParse(args[i + 1], out _)
                : option.Arity.MaximumNumberOfValues > 0;
            if (takesValue)
            {
                i++;
            }
        }
        return args;
    }

    /// <summary>Loads the signing key; an encrypted key without a passphrase source stops the proxy with config advice.</summary>
    private static LoadedKey LoadKey(KeyOptions keys, ParseResult parse, string home, CliConsole console)
    {
        if (keys.ResolveAgent(parse, console) is not null)
        {
            return keys.Load(parse, home, console);
        }
        var name = keys.ResolveName(parse, console);
        var passphraseFile = parse.GetValue(keys.PassphraseFile);
        var store = KeyStore.ForHome(home, console.Time);
        if (!Pkcs11.Pkcs11Uri.IsUri(name) && store.Exists(name) && store.Describe(name).Encrypted && !Passphrases.AnyAvailable(console, passphraseFile))
        {
            throw new SignetException(
                $"key \"{name}\" is encrypted and the proxy cannot prompt for its passphrase (the MCP client owns stdin). " +
                $"Add \"env\": {{\"{PassphraseSource.EnvironmentVariable}\": \"<passphrase>\"}} to this server's entry in the MCP client config, " +
                "or put \"--passphrase-file\", \"/path/to/file\" in its \"args\" before \"--\".");
        }
        return keys.Load(parse, home, console);
    }

    /// <summary>Parses <c>K=V</c> (or <c>K: V</c>) headers.</summary>
    internal static Dictionary<string, string> ParseHeaders(IEnumerable<string> values)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var value in values)
        {
            var cut = value.IndexOf('=', StringComparison.Ordinal);
            var colon = value.IndexOf(':', StringComparison.Ordinal);
            if (cut < 0 || (colon >= 0 && colon < cut))
            {
                cut = colon;
            }
            var headerName = cut > 0 ? value[..cut].Trim() : "";
            if (headerName.Length == 0 || headerName.Any(c => c <= ' ' || c >= 127 || c == ':'))
            {
                throw new CliUsageException($"--header \"{value}\" is not K=V (for example --header \"Authorization=Bearer abc\")");
            }
            result[headerName] = value[(cut + 1)..].Trim();
        }
        return result;
    }

    /// <summary>
    /// <c>mcp://</c> plus the server program's name, or for a launcher (node, npx, python, …) its first non-option
    /// argument's name, as the reference Signet does.
    /// </summary>
    internal static string DefaultTarget(IReadOnlyList<string> server)
    {
        var program = BaseName(server[0]);
        if (Launchers.Contains(Path.GetFileNameWithoutExtension(program)))
        {
            var first = server.Skip(1).FirstOrDefault(a => !a.StartsWith('-'));
            if (first is not null)
            {
                program = BaseName(first);
            }
        }
        return "mcp://" + program;
    }

    private static string BaseName(string path)
    {
        var trimmed = path.TrimEnd('/', '\\');
        var cut = trimmed.LastIndexOfAny(['/', '\\']);
        return cut >= 0 ? trimmed[(cut + 1)..] : trimmed;
    }

    /// <summary>The recorder and the audit log behind it, closed together when the proxy ends.</summary>
    private sealed class Recording : IAsyncDisposable
    {
        private readonly AuditLog? _audit;

        private Recording(IToolCallRecorder recorder, AuditLog? audit)
        {
            Recorder = recorder;
            _audit = audit;
        }

        public IToolCallRecorder Recorder { get; }

        /// <summary>Whether the audit log is open (a log that cannot be opened refuses every call instead).</summary>
        /// <summary>The audit log, or null when the proxy runs without one.</summary>
        public AuditLog? Log => _audit;

        /// <summary>Signs checkpoints of the log; closed after it, so the last one covers every receipt.</summary>
        public AuditCheckpointer? Checkpoints { get; set; }

        /// <summary>
        /// Opens the audit log and builds the recorder. A log that cannot be opened does not stop the proxy: every call
        /// is then refused with the cause (or, with --fail-open, forwarded unsigned and logged), so the user sees why in
        /// the client instead of a server that failed to start.
        /// </summary>
        public static Recording Open(SignetOptions settings, string home, bool fast, TimeProvider time, ILoggerFactory logging)
        {
            var directory = SignetHome.AuditDirectory(home);
            AuditLog audit;
            try
            {
                audit = AuditLog.Open(directory, new AuditLogOptions
                {
                    Durability = fast ? AuditDurability.Fast : AuditDurability.Durable,
                    TimeProvider = time,
                }, logging.CreateLogger("Signet.Audit"));
            }
            catch (Exception e) when (e is SignetException or IOException or UnauthorizedAccessException)
            {
                var cause = $"the audit log in {directory} cannot be opened, so no receipt can be kept: {Clause(e.Message)}";
                logging.CreateLogger("Signet.Proxy").LogCritical("{Cause}", cause);
                // Each call's session refuses it with this cause (or, under --fail-open, logs the FAIL-OPEN line for it).
                return new Recording(new RefusingRecorder(cause, settings), null);
            }
            settings.AuditLog = audit;
            return new Recording(new ToolCallRecorder(settings), audit);
        }

        public async ValueTask DisposeAsync()
        {
            if (_audit is not null)
            {
                await _audit.DisposeAsync();
            }
            if (Checkpoints is not null)
            {
                await Checkpoints.DisposeAsync();
            }
        }
    }

    private static string Clause(string text) => text.TrimEnd().TrimEnd('.');

    /// <summary>Refuses every call with one cause: what the proxy runs with when it cannot keep receipts at all.</summary>
    private sealed class RefusingRecorder(string cause, SignetOptions options) : IToolCallRecorder
    {
        public SignetOptions Options => options;

        public ValueTask<RecordedCall> RecordRequestAsync(JsonObject callParams, string callId, string? sessionId, string? parentReceiptId,
            CancellationToken cancellationToken = default) =>
            throw new ToolCallRecordingException(RecordingStage.Store, cause, cause);

        public ValueTask RecordResponseAsync(RecordedCall call, JsonNode? result, JsonNode? error, CancellationToken cancellationToken = default) =>
            ValueTask.CompletedTask;
    }
}
