using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Signet.Bridge;

namespace Signet.Cli.Commands;

/// <summary>
/// <c>signet bridge</c>: local stdio tool servers (or remote Streamable HTTP ones) behind one authenticated
/// Streamable HTTP endpoint that signs every tools/call, for cloud agents that reach MCP servers only by URL.
/// </summary>
internal static class BridgeCommand
{
    public static Command Create(CliConsole console)
    {
        var listen = new Option<string[]>("--listen") { Description = "Address to listen on, HOST:PORT or https://HOST:PORT (repeatable; default 127.0.0.1:8787)" };
        var config = new Option<string?>("--config") { Description = "Bridge config file (JSON) listing several backends, each at /mcp/<name>" };
        var tokenFile = new Option<string?>("--token-file") { Description = "File holding the bearer token; created (0600) with a new token if missing (default: <home>/bridge.token; or set SIGNET_BRIDGE_TOKEN)" };
        var publicUrl = new Option<string?>("--public-url") { Description = "The URL clients use (tunnel or reverse proxy); names the receipt target and is an allowed Host" };
        var allowHost = new Option<string[]>("--allow-host") { Description = "Another host name allowed in Host/Origin headers (repeatable)" };
        var name = new Option<string?>("--name") { Description = "Backend name for the command form (default: served at /mcp)" };
        var url = new Option<string?>("--url") { Description = "Front a remote Streamable HTTP server instead of a command" };
        var keyOptions = new KeyOptions();
        var home = CommonOptions.Home();
        var maxSessions = new Option<int?>("--max-sessions") { Description = "Sessions (one child process each) open at once (default 32)" };
        var idleTimeout = new Option<string?>("--idle-timeout") { Description = "End sessions idle this long, e.g. 90s, 30m, 2h (default 30m)" };
        var maxBody = new Option<long?>("--max-body-bytes") { Description = "Largest request body accepted (default 4194304)" };
        var recordingOptions = new RecordingOptions();
        var logLevel = new Option<string>("--log-level") { Description = "trace, debug, information, warning or error (logs go to stderr)", DefaultValueFactory = _ => "information" };
        var noAuth = new Option<bool>("--insecure-no-auth-loopback")
        {
            Description = "TEST ONLY: accept requests without the bearer token; refused unless every listen address is loopback",
        };
        var transparency = new TransparencyOptions();
        var checkpointInterval = TransparencyOptions.Interval();
        var command = new Argument<string[]>("command") { Description = "The stdio tool server to run per session, after '--'", Arity = ArgumentArity.ZeroOrMore };
        var bridge = new Command("bridge", "Serve MCP tool servers over authenticated Streamable HTTP, signing every tools/call")
        {
            listen, config, tokenFile, publicUrl, allowHost, name, url, home, maxSessions, idleTimeout, maxBody, logLevel, noAuth, checkpointInterval, command,
        };
        keyOptions.AddTo(bridge);
        recordingOptions.AddTo(bridge);
        transparency.AddTo(bridge);
        bridge.SetAction(async (parse, ct) =>
        {
            var commandLine = parse.GetValue(command) ?? [];
            var configPath = parse.GetValue(config);
            var remoteUrl = parse.GetValue(url);
            var forms = (configPath is null ? 0 : 1) + (remoteUrl is null ? 0 : 1) + (commandLine.Length == 0 ? 0 : 1);
            if (forms != 1)
            {
                throw new CliUsageException("give exactly one of: -- COMMAND [ARGS...], --url URL, or --config FILE");
            }
            var options = configPath is not null ? BridgeConfig.Load(configPath) : new BridgeOptions();
            if (configPath is null)
            {
                var backend = new BridgeBackendOptions { Name = parse.GetValue(name) ?? "default" };
                if (remoteUrl is not null)
                {
                    backend.Url = remoteUrl;
                }
                else
                {
                    backend.Command = commandLine[0];
                    foreach (var arg in commandLine.Skip(1))
                    {
                        backend.Args.Add(arg);
                    }
                }
                options.Backends.Add(backend);
            }
            if (parse.GetValue(listen) is { Length: > 0 } addresses)
            {
                options.Listen.Clear();
                foreach (var address in addresses)
                {
                    options.Listen.Add(address);
                }
            }
            options.PublicUrl = parse.GetValue(publicUrl) ?? options.PublicUrl;
            foreach (var host in parse.GetValue(allowHost) ?? [])
            {
                options.AllowedHosts.Add(host);
            }
            if (parse.GetValue(maxSessions) is { } sessions)
            {
                options.Limits.MaxSessions = sessions;
            }
            if (parse.GetValue(idleTimeout) is { } idle)
            {
                options.Limits.SessionIdleTimeout = ParseDuration(idle, "--idle-timeout");
            }
            if (parse.GetValue(maxBody) is { } body)
            {
                options.Limits.MaxRequestBodyBytes = body;
            }
            recordingOptions.ApplyTo(parse, options.Recording);
            var interval = transparency.ResolveInterval(parse, checkpointInterval);
            var homeDir = CommonOptions.ResolveHome(parse.GetValue(home), console);
            options.DisableAuthenticationOnLoopback = parse.GetValue(noAuth);
            if (!options.DisableAuthenticationOnLoopback)
            {
                options.Token = await ResolveTokenAsync(parse.GetValue(tokenFile), homeDir, console);
            }
            try
            {
                BridgeConfig.Validate(options);
            }
            catch (SignetException e)
            {
                throw new CliUsageException(e.Message);
            }

            using var loggerFactory = CreateLoggerFactory(parse.GetValue(logLevel)!);
            // Key and audit log first: a bridge that cannot sign must not start. Disposed last, after the bridge has
            // stopped, so every receipt of a call in flight is flushed; the last checkpoint is signed between the log's
            // close and the key's, so it covers every receipt.
            await using var recording = BridgeRecording.Open(homeDir, keyOptions.Load(parse, homeDir, console), loggerFactory, console.Time);
            var checkpoints = transparency.Start(parse, console, recording.AuditLog, recording.Signer, interval, loggerFactory);
            if (checkpoints is not null)
            {
                recording.AfterLogClosed = checkpoints.DisposeAsync;
            }
            var server = BridgeServer.Create(options, recording.CreateRecorder, loggerFactory, time: console.Time);
            await using (server)
            {
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
                using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
                using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
                await server.StartAsync(stop.Token);
                foreach (var (backendName, endpoint) in server.Endpoints)
                {
                    await console.Error.WriteLineAsync($"signet bridge: '{backendName}' at {endpoint} (signing with key '{recording.KeyName}', {recording.PublicKey})");
                }
                try
                {
                    await Task.Delay(Timeout.Infinite, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    await console.Error.WriteLineAsync("signet bridge: stopping (finishing calls in flight)");
                }
                await server.StopAsync(CancellationToken.None);
            }
            return SignetCli.Ok;
        });
        return bridge;
    }

    /// <summary>--token-file, else SIGNET_BRIDGE_TOKEN, else &lt;home&gt;/bridge.token; a new token is printed once, to stderr.</summary>
    private static async Task<string> ResolveTokenAsync(string? tokenFile, string home, CliConsole console)
    {
        if (tokenFile is null && console.GetEnvironmentVariable(BridgeToken.EnvironmentVariable) is { Length: > 0 } fromEnv)
        {
            return fromEnv.Trim();
        }
        var path = tokenFile ?? Path.Combine(home, "bridge.token");
        var token = BridgeToken.LoadOrCreate(path, RandomSource.Cryptographic, out var created);
        if (created)
        {
            await console.Error.WriteLineAsync($"signet bridge: generated a bearer token and saved it to {path} (mode 0600).");
            await console.Error.WriteLineAsync("Give it to your client (for Managed Agents: a static bearer credential in a vault). It is shown only this once:");
            await console.Error.WriteLineAsync(token);
        }
        return token;
    }

    internal static TimeSpan ParseDuration(string text, string option)
    {
        var unit = text.Length > 0 ? text[^1] : ' ';
        var number = char.IsAsciiDigit(unit) ? text : text[..^1];
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0)
        {
            throw new CliUsageException($"{option}: '{text}' is not a duration such as 90s, 30m or 2h");
        }
        return unit switch
        {
            's' => TimeSpan.FromSeconds(value),
            'm' => TimeSpan.FromMinutes(value),
            'h' => TimeSpan.FromHours(value),
            _ when char.IsAsciiDigit(unit) => TimeSpan.FromSeconds(value),
            _ => throw new CliUsageException($"{option}: '{text}' is not a duration such as 90s, 30m or 2h"),
        };
    }

    private static ILoggerFactory CreateLoggerFactory(string level)
    {
        if (!Enum.TryParse<LogLevel>(level, ignoreCase: true, out var minimum))
        {
            throw new CliUsageException($"--log-level: '{level}' is not one of trace, debug, information, warning, error");
        }
        return LoggerFactory.Create(b => b
            .SetMinimumLevel(minimum)
            .AddFilter("Microsoft", minimum > LogLevel.Warning ? minimum : LogLevel.Warning)
            .AddSimpleConsole(o => o.SingleLine = true)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
    }
}
