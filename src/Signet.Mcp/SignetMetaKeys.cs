namespace Signet.Mcp;

/// <summary>The <c>_meta</c> keys Signet reads and writes in MCP messages.</summary>
/// <remarks>
/// The <c>dev.signet/…</c> keys follow the MCP spec's <c>_meta</c> naming rule (a reverse-DNS prefix that is not
/// reserved). The reference Signet's <c>_signet</c> keys break that rule; they are written only on request
/// (<see cref="ReceiptMetaKeyMode.Reference"/> or <see cref="ReceiptMetaKeyMode.Both"/>). Verifiers read both.
/// </remarks>
public static class SignetMetaKeys
{
    /// <summary>The agent's v1 request receipt in <c>params._meta</c>.</summary>
    public const string Receipt = "dev.signet/receipt";

    /// <summary>The server's v3 co-signature in <c>result._meta</c>.</summary>
    public const string CoSignature = "dev.signet/cosignature";

    /// <summary>The reference Signet's key for the request receipt.</summary>
    public const string ReferenceReceipt = "_signet";

    /// <summary>The reference Signet's key for the server co-signature.</summary>
    public const string ReferenceCoSignature = "_signet_bilateral";

    /// <summary>The request-receipt keys to write for a mode.</summary>
    public static IReadOnlyList<string> ReceiptKeys(ReceiptMetaKeyMode mode) => mode switch
    {
        ReceiptMetaKeyMode.Reference => [ReferenceReceipt],
        ReceiptMetaKeyMode.Both => [Receipt, ReferenceReceipt],
        _ => [Receipt],
    };

    /// <summary>The co-signature keys to write for a mode.</summary>
    public static IReadOnlyList<string> CoSignatureKeys(ReceiptMetaKeyMode mode) => mode switch
    {
        ReceiptMetaKeyMode.Reference => [ReferenceCoSignature],
        ReceiptMetaKeyMode.Both => [CoSignature, ReferenceCoSignature],
        _ => [CoSignature],
    };
}

