using Signet.Mcp;

namespace Signet.Bridge.Http;

/// <summary>How the bridge makes each backend's recorder: from the container's <c>AddSignet</c> registrations, or a factory given in code.</summary>
internal sealed class BridgeRecorders(Func<BridgeRecorderTarget, IToolCallRecorder> create)
{
    public Func<BridgeRecorderTarget, IToolCallRecorder> Create { get; } = create;
}
