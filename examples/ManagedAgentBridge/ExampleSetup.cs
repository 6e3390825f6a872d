using Microsoft.Extensions.Configuration;
using Signet;
using Signet.Bridge;
using Signet.Keys;

namespace ManagedAgentBridge;

/// <summary>The example's own settings (section <c>Signet</c>): where the key, token and audit log live, and the demo conveniences.</summary>
internal sealed class ExampleSetup
{
    private readonly string? tokenFile;

    private ExampleSetup(string home, string keyName, PassphraseSource passphrase, string? tokenFile)
    {
        Home = home;
        KeyName = keyName;
        Passphrase = passphrase;
        this.tokenFile = tokenFile;
    }

    public string Home { get; }

    public string KeyName { get; }

    public PassphraseSource Passphrase { get; }

    public static ExampleSetup From(IConfigurationSection signet)
    {
        var home = signet["Home"] is { Length: > 0 } h ? Path.GetFullPath(h) : SignetHome.Resolve(null, Environment.GetEnvironmentVariable);
        var keyName = signet["Key"] ?? Environment.GetEnvironmentVariable("SIGNET_KEY") ?? "default";
        var passphrase = signet["PassphraseFile"] is { Length: > 0 } file
            ? PassphraseSource.FromFile(Path.GetFullPath(file))
            : PassphraseSource.FromEnvironment();
        if (signet.GetValue("CreateKeyIfMissing", false))
        {
            EnsureKey(home, keyName);
        }
        return new ExampleSetup(home, keyName, passphrase, signet["TokenFile"]);
    }

    /// <summary>The token file (created 0600 with a new token, shown once on stderr), else SIGNET_BRIDGE_TOKEN.</summary>
    public string Token()
    {
        if (tokenFile is null && Environment.GetEnvironmentVariable(BridgeToken.EnvironmentVariable) is { Length: > 0 } fromEnv)
        {
            return fromEnv.Trim();
        }
        var path = tokenFile ?? Path.Combine(Home, "bridge.token");
        var token = BridgeToken.LoadOrCreate(path, RandomSource.Cryptographic, out var created);
        if (created)
        {
            // Straight to stderr, never through the logger: tokens do not belong in log files.
            Console.Error.WriteLine($"Generated a bearer token, saved to {path} (mode 0600). It is shown only this once:");
            Console.Error.WriteLine(token);
        }
        return token;
    }

    /// <summary>
    /// "{app}" in a backend's command or arguments is this program's folder, where the build puts signet.dll, so the
    /// bundled demo tool server (<c>dotnet {app}/signet.dll demo-server</c>) runs with nothing else installed.
    /// </summary>
    public static IConfiguration WithAppFolder(IConfigurationSection bridge)
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

    private static void EnsureKey(string home, string keyName)
    {
        var store = KeyStore.ForHome(home);
        if (store.Exists(keyName))
        {
            return;
        }
        if (Environment.GetEnvironmentVariable(PassphraseSource.EnvironmentVariable) is { Length: > 0 })
        {
            store.CreateEncrypted(keyName, PassphraseSource.FromEnvironment());
            Console.Error.WriteLine($"Created the encrypted signing key '{keyName}' in {home}");
        }
        else
        {
            store.CreateUnencrypted(keyName);
            Console.Error.WriteLine($"Created an UNENCRYPTED demo signing key '{keyName}' in {home}; for real use run 'signet key new' and set CreateKeyIfMissing to false");
        }
    }
}
