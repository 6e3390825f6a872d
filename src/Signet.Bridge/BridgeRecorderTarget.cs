namespace Signet.Bridge;

/// <summary>What a recorder factory is told about the backend it records for.</summary>
/// <param name="Name">The backend's name.</param>
/// <param name="Target">The bridge's public URL of this backend: the receipt's target.</param>
public sealed record BridgeRecorderTarget(string Name, Uri Target);
