using Signet.Keys;
using Signet.Mcp.Recording;
using Signet.Receipts;

namespace Signet.Mcp.Tests.Proxy;

/// <summary>What the recorder doubles hand back for a "recorded" request: a token over a real receipt of a throwaway key.</summary>
internal static class DoubleCalls
{
    private static readonly ReceiptSigner Signer = new(SigningKey.Generate(), "double");

    public static RecordedCall Recorded(string callId, string? sessionId, string tool) =>
        new(callId, sessionId, tool, Signer.SignRequest(new ReceiptAction { Tool = tool, Target = "mcp://double", CallId = callId }), DateTimeOffset.UnixEpoch);

    /// <summary>Settings for a double: only the policies matter (the doubles sign nothing).</summary>
    public static SignetOptions Options(bool failOpen = false) => new()
    {
        Signer = Signer,
        Target = "mcp://double",
        FailureMode = failOpen ? RecordingFailureMode.FailOpen : RecordingFailureMode.FailClosed,
    };
}
