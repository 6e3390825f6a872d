using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Signet.Diagnostics;
using Signet.Keys;
using Signet.Mcp;
using Signet.Mcp.Recording;
using Signet.Receipts;

namespace Signet.Benchmarks;

/// <summary>
/// What the spans and metrics cost a call: the instrumentation alone with nobody listening (five span starts and
/// three counter adds, as many as one signed call with its response makes), and one whole call through a
/// <see cref="ToolCallSession"/> (sign, forward, response, sign; no audit log) with nobody listening and with an
/// <see cref="ActivityListener"/> and a <see cref="MeterListener"/> recording everything.
/// </summary>
[MemoryDiagnoser]
public class TelemetryBenchmarks
{
    private SigningKey _key = null!;
    private ToolCallSession _session = null!;
    private ActivityListener? _activities;
    private MeterListener? _meters;
    private long _id;

    [Params(false, true)]
    public bool Listening { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _key = SigningKey.Generate();
        var recorder = new ToolCallRecorder(new SignetOptions { Signer = new ReceiptSigner(_key, "bench-agent", "bench"), Target = "mcp://bench" });
        _session = recorder.CreateSession("bench");
        if (Listening)
        {
            _activities = new ActivityListener
            {
                ShouldListenTo = s => s.Name == SignetTelemetry.SourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            };
            ActivitySource.AddActivityListener(_activities);
            _meters = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Name == SignetTelemetry.MeterName)
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _meters.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
            _meters.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
            _meters.Start();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _activities?.Dispose();
        _meters?.Dispose();
        _key.Dispose();
    }

    [Benchmark]
    public int InstrumentationOnly()
    {
        var n = 0;
        for (var i = 0; i < 5; i++)
        {
            using var span = SignetTelemetry.StartDetached("signet.bench", ActivityKind.Internal, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", null);
            n += span is null ? 0 : 1;
        }
        for (var i = 0; i < 3; i++)
        {
            SignetTelemetry.ReceiptsWritten.Add(1, new KeyValuePair<string, object?>("signet.receipt.kind", "request"));
        }
        return n;
    }

    [Benchmark]
    public async Task<string?> SignedCall()
    {
        var id = Interlocked.Increment(ref _id);
        var callParams = new JsonObject
        {
            ["name"] = "write_file",
            ["arguments"] = new JsonObject { ["path"] = "/home/user/projects/app/src/components/Header.tsx", ["content"] = "export function Header() { return <h1>Hello</h1>; }" },
            ["_meta"] = new JsonObject { ["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
        };
        var start = await _session.StartAsync(true, id, true, callParams);
        var pending = _session.Forwarded(start)!;
        _session.TryTake(pending);
        return await _session.RecordResponseAsync(pending, new JsonObject { ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "wrote 52 bytes" }) }, null);
    }
}
