using Signet.Keys;
using Signet.Trust;

namespace Signet.Audit;

/// <summary>A key rotation announced in the log (<see cref="KeyRotation"/>) and what verification made of it.</summary>
/// <param name="File">The day file.</param>
/// <param name="Line">One-based line number.</param>
/// <param name="ReceiptId">The announcement receipt's id.</param>
/// <param name="Section">The role handed over, when the announcement could be read.</param>
/// <param name="OldKey">The retiring key (the announcement's signer).</param>
/// <param name="NewKey">The announced key, when the announcement could be read.</param>
/// <param name="Accepted">True when the new key is trusted from this record on.</param>
/// <param name="Reason">Why it was refused (null when accepted).</param>
public sealed record AuditKeyRotation(string File, long Line, string? ReceiptId, TrustSection? Section, PublicKey? OldKey, PublicKey? NewKey, bool Accepted, string? Reason);
