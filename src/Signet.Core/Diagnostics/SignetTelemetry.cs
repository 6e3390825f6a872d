using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Signet.Diagnostics;

/// <summary>
/// The names under which Signet reports traces and metrics through <see cref="System.Diagnostics"/>: subscribe to
/// them with OpenTelemetry (<c>AddSource(SignetTelemetry.SourceName)</c>, <c>AddMeter(SignetTelemetry.MeterName)</c>)
/// or any <see cref="ActivityListener"/> and <see cref="MeterListener"/>. With nobody listening, an instrumented call
/// costs a few flag checks and allocates nothing.
/// </summary>
/// <remarks>
/// <para>Spans: <c>signet.sign</c> (a receipt signed), <c>signet.append</c> (a receipt written to the audit log; the
/// span ends when it is durable), <c>signet.forward</c> (a signed call out to the tool server until its response).
/// They carry <c>signet.receipt.id</c>, <c>signet.receipt.kind</c>, <c>gen_ai.tool.name</c> and <c>mcp.call.id</c>, and
/// continue the trace of the call's W3C <c>traceparent</c> (from <c>params._meta</c>, else the current activity).</para>
/// <para>Metrics: <c>signet.receipts.written</c> (counter, by <c>signet.receipt.kind</c>), <c>signet.calls.refused</c>
/// (counter, by <c>signet.refusal.stage</c>), <c>signet.audit.fsync.duration</c> (histogram, seconds),
/// <c>signet.audit.group_commit.size</c> (histogram, records per fsync).</para>
/// </remarks>
public static class SignetTelemetry
{
    /// <summary>The <see cref="ActivitySource"/> name of Signet's spans.</summary>
    public const string SourceName = "Signet";

    /// <summary>The <see cref="Meter"/> name of Signet's metrics.</summary>
    public const string MeterName = "Signet";

    internal static readonly ActivitySource Source = new(SourceName, typeof(SignetTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Meter Meter = new(MeterName, typeof(SignetTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> ReceiptsWritten = Meter.CreateCounter<long>(
        "signet.receipts.written", "{receipt}", "Receipts signed and written to the audit log");

    internal static readonly Counter<long> CallsRefused = Meter.CreateCounter<long>(
        "signet.calls.refused", "{call}", "Tool calls refused or withheld by Signet, by the stage that failed");

    internal static readonly Histogram<double> FsyncDuration = Meter.CreateHistogram<double>(
        "signet.audit.fsync.duration", "s", "How long each fsync of the audit log took");

    internal static readonly Histogram<long> GroupCommitSize = Meter.CreateHistogram<long>(
        "signet.audit.group_commit.size", "{record}", "Records made durable by one fsync of the audit log");

    /// <summary>
    /// Starts a span as a child of <paramref name="traceParent"/> when it is a valid W3C <c>traceparent</c>, else of the
    /// current activity, without making it current (its end is the caller's); null when nobody listens.
    /// </summary>
    internal static Activity? StartDetached(string name, ActivityKind kind, string? traceParent, string? traceState)
    {
        if (!Source.HasListeners())
        {
            return null;
        }
        var previous = Activity.Current;
        var activity = traceParent is not null && ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent)
            ? Source.StartActivity(name, kind, parent)
            : Source.StartActivity(name, kind);
        Activity.Current = previous;
        return activity;
    }
}
