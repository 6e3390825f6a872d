namespace Signet;

/// <summary>The Signet home directory layout: <c>keys/</c> and <c>audit/</c>, as in the reference Signet.</summary>
public static class SignetHome
{
    /// <summary>The environment variable that overrides the default home.</summary>
    public const string EnvironmentVariable = "SIGNET_HOME";

    /// <summary>Resolves the home: an explicit path, else <c>SIGNET_HOME</c>, else <c>~/.signet</c>.</summary>
    public static string Resolve(string? explicitPath, Func<string, string?>? getEnvironmentVariable = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            return Path.GetFullPath(explicitPath);
        }

        var fromEnv = (getEnvironmentVariable ?? Environment.GetEnvironmentVariable)(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return Path.GetFullPath(fromEnv);
        }

        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".signet");
    }

    /// <summary>The directory holding key files.</summary>
    public static string KeysDirectory(string home) => Path.Combine(home, "keys");

    /// <summary>The directory holding the audit log's day files.</summary>
    public static string AuditDirectory(string home) => Path.Combine(home, "audit");
}
