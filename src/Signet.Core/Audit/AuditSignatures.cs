using System.Text.Json.Nodes;
using Signet.Keys;

namespace Signet.Audit;

/// <summary>Re-verifies a logged receipt's signature.</summary>
internal static class AuditSignatures
{
    /// <summary>Null when the signature verifies; otherwise why not.</summary>
    public static string? Check(JsonObject receipt, IReadOnlyList<PublicKey> trustedKeys) =>
        throw new NotSupportedException("receipt signature verification is not wired yet");
}
