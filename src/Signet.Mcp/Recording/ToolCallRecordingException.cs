namespace Signet.Mcp.Recording;

/// <summary>
/// A receipt that could not be signed, stored or accepted. The recorder throws it; the connection's
/// <see cref="ToolCallSession"/> decides what it means for the call (refused, or let through under fail-open).
/// </summary>
public sealed class ToolCallRecordingException : SignetException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="stage">Where it happened.</param>
    /// <param name="message">The refusal, as the client is told it: what happened and what to do.</param>
    /// <param name="cause">What happened, as a clause (for the fail-open line).</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    /// <param name="call">A request that was signed but whose receipt could not be stored, if any.</param>
    public ToolCallRecordingException(RecordingStage stage, string message, string cause, Exception? innerException = null, RecordedCall? call = null)
        : base(message, innerException!)
    {
        Stage = stage;
        Cause = cause;
        Call = call;
    }

    /// <summary>Where it happened.</summary>
    public RecordingStage Stage { get; }

    /// <summary>What happened, as a clause without the refusal's wording.</summary>
    public string Cause { get; }

    /// <summary>A request that was signed but whose receipt was not stored (under fail-open the call still carries it, so its server can check it).</summary>
    public RecordedCall? Call { get; }

    /// <summary>Whether this is a policy the server's response broke (a required co-signature), which no failure mode lets through.</summary>
    public bool IsPolicy => Stage == RecordingStage.CoSignature;
}
