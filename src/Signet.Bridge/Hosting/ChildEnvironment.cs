namespace Signet.Bridge.Hosting;

/// <summary>
/// The environment a child gets: ours, minus every <c>SIGNET_*</c> variable except <c>SIGNET_HOME</c>. Deny-by-default,
/// so a secret added later (a passphrase, a key, the bridge's token) never leaks to a tool server.
/// </summary>
internal static class ChildEnvironment
{
    /// <summary>The only Signet variable passed on: where keys and the log live is not a secret.</summary>
    public const string PassedSignetVariable = "SIGNET_HOME";

    /// <summary>Whether a variable of our environment reaches the child.</summary>
    public static bool IsPassedToChild(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return !name.StartsWith("SIGNET_", comparison) || name.Equals(PassedSignetVariable, comparison);
    }

    /// <summary>Removes the variables the child must not see from <paramref name="environment"/> (in place).</summary>
    public static void Filter(IDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        foreach (var name in environment.Keys.Where(name => !IsPassedToChild(name)).ToArray())
        {
            environment.Remove(name);
        }
    }
}
