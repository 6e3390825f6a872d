using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Signet;
using Signet.Bridge;
using Signet.Keys;

namespace ManagedAgentBridge;

/// <summary>Runs the bridge for the lifetime of the host: key and audit log first, then Kestrel; the reverse on stop.</summary>
internal sealed class BridgeService(IConfiguration configuration, ILoggerFactory loggerFactory) : IHostedService
{
    private readonly ILogger logger = loggerFactory.CreateLogger<BridgeService>();
    private BridgeRecording? recording;
    private BridgeServer? server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var signet = configuration.GetSection("Signet");
        var home = signet["Home"] is { Length: > 0 } h ? Path.GetFullPath(h) : SignetHome.Resolve(null, Environment.GetEnvironmentVariable);
        var keyName = signet["Key"] ?? Environment.GetEnvironmentVariable("SIGNET_KEY") ?? "default";
        var passphrase = signet["PassphraseFile"] is { Length: > 0 } file
            ? PassphraseSource.FromFile(Path.GetFullPath(file))
            : PassphraseSource.FromEnvironment();
        if (signet.GetValue("CreateKeyIfMissing", false))
        {
            EnsureKey(home, keyName);
        }

        var options = BridgeConfig.Bind(WithAppFolder(configuration.GetSection("Bridge")), "appsettings.json: Bridge");
        options.Token = ResolveToken(signet["TokenFile"], home);
        recording = BridgeRecording.Open(home, keyName, passphrase, loggerFactory);
        server = BridgeServer.Create(options, recording.CreateRecorder, loggerFactory, configuration);
        await server.StartAsync(cancellationToken);
        foreach (var (name, url) in server.Endpoints)
        {
            logger.LogInformation("Serving '{Backend}' at {Url}, signing with key '{Key}' ({PublicKey}); audit log in {Audit}",
                name, url, recording.KeyName, recording.PublicKey, SignetHome.AuditDirectory(home));
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (server is not null)
        {
            await server.StopAsync(cancellationToken);
            await server.DisposeAsync();
        }
        if (recording is not null)
        {
            await recording.DisposeAsync();
        }
    }

    /// <summary>
    /// "{app}" in a backend's command or arguments is this program's folder, where the build puts signet.dll, so the
    /// bundled demo tool server (<c>dotnet {app}/signet.dll demo-server</c>) runs with nothing else installed.
    /// </summary>
    private static IConfiguration WithAppFolder(IConfigurationSection bridge)
    {
        var folder = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var overrides = new Dictionary<string, string?>();
        foreach (var backend in bridge.GetSection("Backends").GetChildren())
        {
            foreach (var setting in backend.GetChildren().Where(c => c.Key == "Command").Concat(backend.GetSection("Args").GetChildren()))
            {
                if (setting.Value?.Contains("{app}", StringComparison.Ordinal) == true)
                {
                    overrides[setting.Path[(bridge.Path.Length + 1)..]] = setting.Value.Replace("{app}", folder, StringComparison.Ordinal);
                }
            }
        }
        return new ConfigurationBuilder().AddConfiguration(bridge).AddInMemoryCollection(overrides).Build();
    }

    private void EnsureKey(string home, string keyName)
    {
        var store = KeyStore.ForHome(home);
        if (store.Exists(keyName))
        {
            return;
        }
        if (Environment.GetEnvironmentVariable(PassphraseSource.EnvironmentVariable) is { Length: > 0 })
        {
            store.CreateEncrypted(keyName, PassphraseSource.FromEnvironment());
            logger.LogWarning("Created the encrypted signing key '{Key}' in {Home}", keyName, home);
        }
        else
        {
            store.CreateUnencrypted(keyName);
            logger.LogWarning("Created an UNENCRYPTED demo signing key '{Key}' in {Home}; for real use run 'signet key new' and set CreateKeyIfMissing to false",
                keyName, home);
        }
    }

    /// <summary>The token file (created 0600 with a new token, shown once on stderr), else SIGNET_BRIDGE_TOKEN.</summary>
    private static string ResolveToken(string? tokenFile, string home)
    {
        if (tokenFile is null && Environment.GetEnvironmentVariable(BridgeToken.EnvironmentVariable) is { Length: > 0 } fromEnv)
        {
            return fromEnv.Trim();
        }
        var path = tokenFile ?? Path.Combine(home, "bridge.token");
        var token = BridgeToken.LoadOrCreate(path, RandomSource.Cryptographic, out var created);
        if (created)
        {
            // Straight to stderr, never through the logger: tokens do not belong in log files.
            Console.Error.WriteLine($"Generated a bearer token, saved to {path} (mode 0600). It is shown only this once:");
            Console.Error.WriteLine(token);
        }
        return token;
    }
}
