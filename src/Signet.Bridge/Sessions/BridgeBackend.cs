using Signet.Mcp;

namespace Signet.Bridge.Sessions;

/// <summary>A backend as the bridge runs it: its options, its URL path, the receipt target and its recorder.</summary>
internal sealed class BridgeBackend
{
    public required BridgeBackendOptions Options { get; init; }
    public required string Path { get; init; }
    public required Uri Target { get; init; }
    public required IToolCallRecorder Recorder { get; init; }

    public string Name => Options.Name;

    public bool IsStdio => Options.Command is not null;
}

/// <summary>What a recorder factory is told about the backend it records for.</summary>
/// <param name="Name">The backend's name.</param>
/// <param name="Target">The bridge's public URL of this backend: the receipt's target.</param>
public sealed record BridgeRecorderTarget(string Name, Uri Target);
