namespace Signet.Mcp.Hosting;

/// <summary>Where the builder methods found the Signet home, so that the audit log defaults to the key's home.</summary>
internal sealed class SignetHostingOptions
{
    public string? Home { get; set; }
}
