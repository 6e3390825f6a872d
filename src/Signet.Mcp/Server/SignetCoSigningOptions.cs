using Signet.Receipts;

namespace Signet.Mcp.Server;

/// <summary>Settings of the co-signing filter when it resolves them from the service container.</summary>
public sealed class SignetCoSigningOptions
{
    /// <summary>Signs as the server; its name goes into <c>server.name</c>. Required.</summary>
    public ReceiptSigner? Signer { get; set; }

    /// <summary>Also co-sign receipts that were accepted with integrity only (from untrusted keys).</summary>
    public bool CoSignUntrusted { get; set; }
}
