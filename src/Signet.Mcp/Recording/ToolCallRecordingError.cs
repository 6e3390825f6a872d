namespace Signet.Mcp.Recording;

/// <summary>A recording problem, as given to <see cref="SignetOptions.OnError"/>.</summary>
/// <param name="Stage">Where it happened.</param>
/// <param name="CallId">The call.</param>
/// <param name="SessionId">The MCP session, when there is one.</param>
/// <param name="Message">What went wrong and what to do.</param>
/// <param name="Exception">The underlying exception, when there is one.</param>
/// <param name="Refused">True when the call (or response) was refused because of it.</param>
public sealed record ToolCallRecordingError(RecordingStage Stage, string CallId, string? SessionId, string Message, Exception? Exception, bool Refused);
