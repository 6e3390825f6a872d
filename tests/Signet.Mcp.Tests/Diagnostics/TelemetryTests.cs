using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Diagnostics;
using Signet.Mcp.Recording;
using Signet.Mcp.Tests.Recording;

namespace Signet.Mcp.Tests.Diagnostics;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    /// <summary>Listeners are process-wide: the tests that count measurements run alone.</summary>
    public const string Name = "Telemetry";
}

/// <summary>
/// The spans and metrics a call emits through <see cref="SignetTelemetry"/>, read with the BCL's own
/// <see cref="ActivityListener"/> and <see cref="MeterListener"/> (what OpenTelemetry subscribes with), over a real
/// audit log on disk.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests : IDisposable
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string ParentSpanId = "00f067aa0ba902b7";

    private readonly string _dir = Directory.CreateTempSubdirectory("signet-telemetry-").FullName;
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters = new();
    private readonly List<Activity> _stopped = [];
    private readonly List<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = [];

    public TelemetryTests()
    {
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SignetTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { lock (_stopped) { _stopped.Add(activity); } },
        };
        ActivitySource.AddActivityListener(_activities);
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SignetTelemetry.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Measured(instrument, value, tags));
        _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Measured(instrument, value, tags));
        _meters.Start();
    }

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Call_SpansContinueItsTraceparent_AndMetricsCountReceiptsFsyncsAndRefusals()
    {
        await using var log = AuditLog.Open(_dir);
        var recorder = new ToolCallRecorder(new SignetOptions { Signer = TestKeys.AgentSigner(TestKeys.Clock()), AuditLog = log, Target = "mcp://test" });
        var session = recorder.CreateSession("s1");
        var callParams = new JsonObject
        {
            ["name"] = "echo",
            ["arguments"] = new JsonObject { ["message"] = "hi" },
            ["_meta"] = new JsonObject { ["traceparent"] = $"00-{TraceId}-{ParentSpanId}-01", ["tracestate"] = "vendor=1" },
        };

        var start = await session.StartAsync(true, 7, true, callParams);
        var pending = session.Forwarded(start)!;
        Assert.Null(Activity.Current); // the spans are the call's, not the caller's ambient context
        Assert.True(session.TryTakeResponse("n:7", out var taken));
        Assert.Same(pending, taken);
        Assert.Null(await session.RecordResponseAsync(taken, new JsonObject { ["content"] = new JsonArray() }, null));
        // A call whose _meta is not an object cannot carry its receipt: refused before anything is signed.
        var refused = await session.StartAsync(true, 8, true, new JsonObject { ["name"] = "echo", ["_meta"] = "x" });
        Assert.Equal(ToolCallVerdict.Refuse, refused.Verdict);

        List<Activity> spans;
        lock (_stopped)
        {
            spans = [.. _stopped.Where(a => a.TraceId.ToHexString() == TraceId)];
        }
        Assert.Equal(["signet.append", "signet.append", "signet.forward", "signet.sign", "signet.sign"], spans.Select(a => a.OperationName).Order());
        Assert.All(spans, a => Assert.Equal(ParentSpanId, a.ParentSpanId.ToHexString()));
        Assert.All(spans, a => Assert.Equal("vendor=1", a.TraceStateString));
        Assert.All(spans, a => Assert.Equal("echo", a.GetTagItem("gen_ai.tool.name")));
        Assert.All(spans, a => Assert.Equal("n:7", a.GetTagItem("mcp.call.id")));
        var receipts = AuditQuery.Read(_dir).Select(e => (string)e.Receipt["id"]!).ToList();
        Assert.Equal(2, receipts.Count);
        var request = start.Recorded!.Receipt.Id;
        Assert.Equal(receipts[0], request);
        Assert.Equal([request, request, request],
            spans.Where(a => (string?)a.GetTagItem("signet.receipt.kind") == "request").Select(a => a.GetTagItem("signet.receipt.id")));
        Assert.Equal([receipts[1], receipts[1]],
            spans.Where(a => (string?)a.GetTagItem("signet.receipt.kind") == "response").Select(a => a.GetTagItem("signet.receipt.id")));
        Assert.Equal(ActivityKind.Client, spans.Single(a => a.OperationName == "signet.forward").Kind);
        Assert.All(spans, a => Assert.Equal(ActivityStatusCode.Unset, a.Status));

        List<(string Instrument, double Value, Dictionary<string, object?> Tags)> measured;
        lock (_measurements)
        {
            measured = [.. _measurements];
        }
        Assert.Equal(["request", "response"], measured.Where(m => m.Instrument == "signet.receipts.written").Select(m => (string)m.Tags["signet.receipt.kind"]!).Order());
        Assert.Equal(["sign_request"], measured.Where(m => m.Instrument == "signet.calls.refused").Select(m => (string)m.Tags["signet.refusal.stage"]!));
        Assert.Contains(measured, m => m.Instrument == "signet.audit.fsync.duration" && m.Value >= 0);
        Assert.Contains(measured, m => m.Instrument == "signet.audit.group_commit.size" && m.Value >= 1);
    }

    [Fact]
    public async Task ForwardSpan_ClientCancels_EndsWithErrorStatus()
    {
        var recorder = new ToolCallRecorder(new SignetOptions { Signer = TestKeys.AgentSigner(TestKeys.Clock()), Target = "mcp://test" });
        var session = recorder.CreateSession();
        var callParams = new JsonObject { ["name"] = "slow", ["_meta"] = new JsonObject { ["traceparent"] = $"00-{TraceId}-{ParentSpanId}-01" } };

        session.Forwarded(await session.StartAsync(true, 1, true, callParams));
        Assert.True(session.Cancel(1));

        Activity forward;
        lock (_stopped)
        {
            forward = _stopped.Single(a => a.OperationName == "signet.forward" && a.TraceId.ToHexString() == TraceId);
        }
        Assert.Equal(ActivityStatusCode.Error, forward.Status);
        Assert.Equal("cancelled by the client", forward.StatusDescription);
    }

    private void Measured<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct
    {
        var copy = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }
        lock (_measurements)
        {
            _measurements.Add((instrument.Name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), copy));
        }
    }
}
