using Signet.Mcp;

namespace Signet.Bridge;

/// <summary>What a recorder factory is told about the backend it records for.</summary>
/// <param name="Name">The backend's name.</param>
/// <param name="Target">The bridge's public URL of this backend: the receipt's target.</param>
/// <param name="Settings">The bridge's recording policies (<see cref="BridgeOptions.Recording"/>): the recorder is made from a copy of them.</param>
public sealed record BridgeRecorderTarget(string Name, Uri Target, SignetOptions Settings);
