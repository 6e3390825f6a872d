using Signet.Keys;

namespace Signet.Trust;

/// <summary>One key of a trust bundle: <c>{id, name, owner, pubkey, status, created_at, expires_at?, disabled_at?, revoked_at?, comment?}</c>.</summary>
public sealed record TrustEntry
{
    /// <summary>The entry's id, unique within its section.</summary>
    public required string Id { get; init; }

    /// <summary>A display name.</summary>
    public required string Name { get; init; }

    /// <summary>Who is responsible for the key.</summary>
    public required string Owner { get; init; }

    /// <summary>The public key.</summary>
    public required PublicKey PublicKey { get; init; }

    /// <summary>The status.</summary>
    public TrustStatus Status { get; init; } = TrustStatus.Active;

    /// <summary>When the entry was created (UTC).</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Receipts signed at or after this time are not trusted.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>When the key was disabled (retired): receipts signed at or after it are not trusted.</summary>
    public DateTimeOffset? DisabledAt { get; init; }

    /// <summary>When the key was revoked (compromised): receipts signed at or after it are not trusted.</summary>
    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>A free-form comment (e.g. why it was revoked).</summary>
    public string? Comment { get; init; }

    /// <summary>
    /// The first instant at which the key is no longer trusted: the earliest of <see cref="RevokedAt"/>,
    /// <see cref="DisabledAt"/> and <see cref="ExpiresAt"/>. A revoked or disabled entry without its time has no
    /// trusted instant at all (<see cref="DateTimeOffset.MinValue"/>). Null: trusted without end.
    /// </summary>
    public DateTimeOffset? TrustedUntil
    {
        get
        {
            DateTimeOffset? end = null;
            foreach (var t in (DateTimeOffset?[])[RevokedAt, DisabledAt, ExpiresAt,
                Status == TrustStatus.Revoked && RevokedAt is null ? DateTimeOffset.MinValue : null,
                Status == TrustStatus.Disabled && DisabledAt is null ? DateTimeOffset.MinValue : null])
            {
                if (t is { } v && (end is null || v < end))
                {
                    end = v;
                }
            }
            return end;
        }
    }

    /// <summary>
    /// This entry with its trust ended at <paramref name="at"/> (kept if it already ended earlier): revoked, or else
    /// disabled (a revoked entry stays revoked).
    /// </summary>
    internal TrustEntry EndedAt(DateTimeOffset at, bool revoke) => revoke
        ? this with { Status = TrustStatus.Revoked, RevokedAt = RevokedAt is { } r && r < at ? r : at }
        : this with
        {
            Status = Status == TrustStatus.Revoked ? TrustStatus.Revoked : TrustStatus.Disabled,
            DisabledAt = DisabledAt is { } d && d < at ? d : at,
        };

    /// <summary>True when a signature made at <paramref name="at"/> by this key is trusted.</summary>
    public bool IsTrustedAt(DateTimeOffset at) => TrustedUntil is not { } end || at < end;
}
