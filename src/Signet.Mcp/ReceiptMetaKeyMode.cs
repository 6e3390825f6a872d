namespace Signet.Mcp;

/// <summary>Which <c>_meta</c> keys carry Signet receipts.</summary>
public enum ReceiptMetaKeyMode
{
    /// <summary>Spec-valid keys only: <c>dev.signet/receipt</c> and <c>dev.signet/cosignature</c> (the default).</summary>
    Standard,

    /// <summary>The reference Signet's keys only: <c>_signet</c> and <c>_signet_bilateral</c>, for its server verifier and client.</summary>
    Reference,

    /// <summary>Both sets of keys, carrying the same receipt.</summary>
    Both,
}
