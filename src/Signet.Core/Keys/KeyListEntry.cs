namespace Signet.Keys;

/// <summary>One row of <see cref="KeyStore.List"/>: the key's details, or why they could not be read.</summary>
/// <param name="Name">The key's name.</param>
/// <param name="Info">The details, when the files are readable.</param>
/// <param name="Problem">What is wrong with the files, when they are not.</param>
public sealed record KeyListEntry(string Name, KeyInfo? Info, string? Problem);
