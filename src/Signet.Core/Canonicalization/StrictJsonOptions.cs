namespace Signet.Canonicalization;

/// <summary>Options for <see cref="StrictJson"/>.</summary>
public sealed record StrictJsonOptions
{
    /// <summary>Strict: duplicate keys rejected, at most 128 nested containers.</summary>
    public static StrictJsonOptions Default { get; } = new();

    /// <summary>What to do with a repeated key.</summary>
    public DuplicateKeyPolicy DuplicateKeys { get; init; } = DuplicateKeyPolicy.Reject;

    /// <summary>The deepest nesting of objects and arrays accepted.</summary>
    /// <remarks>The reference parser (serde_json) accepts 127; one more lets this side read an audit record around a maximal receipt.</remarks>
    public int MaxDepth { get; init; } = 128;
}
