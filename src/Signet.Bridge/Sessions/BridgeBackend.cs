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
