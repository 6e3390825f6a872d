using System.Text.Json.Nodes;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Audit;

/// <summary>Re-verifies a logged receipt's signature, forensically: expired receipts and old v3 time gaps are accepted.</summary>
internal static class AuditSignatures
{
    /// <summary>Null when the receipt verifies; otherwise why not.</summary>
    public static string? Check(JsonObject receipt, IReadOnlyList<PublicKey> trustedKeys)
    {
        var verification = ReceiptVerifier.Verify(receipt, new ReceiptVerificationOptions
        {
            TrustedKeys = trustedKeys,
            AllowExpired = true,
            MaxTimeWindow = TimeSpan.Zero,
        });
        return verification.IsValid ? null : verification.ToString();
    }
}
