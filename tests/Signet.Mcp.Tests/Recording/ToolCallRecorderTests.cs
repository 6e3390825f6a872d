using System.Text.Json.Nodes;
using Signet.Canonicalization;
using Signet.Mcp.Recording;
using Signet.Receipts;

namespace Signet.Mcp.Tests.Recording;

public sealed class ToolCallRecorderTests
{
    private const string Target = "mcp://test-server";

    private static JsonObject CallParams(string tool = "echo", JsonObject? arguments = null, JsonObject? meta = null)
    {
        var p = new JsonObject { ["name"] = tool };
        if (arguments is not null)
        {
            p["arguments"] = arguments;
        }
        if (meta is not null)
        {
            p["_meta"] = meta;
        }
        return p;
    }

    private static (ToolCallRecorder Recorder, MemorySink Sink, List<RecordedReceipt> Recorded, List<ToolCallRecordingError> Errors) Create(
        Func<SignetOptions, SignetOptions>? configure = null, TimeProvider? time = null, IReceiptSink? sink = null)
    {
        var memory = new MemorySink();
        var recorded = new List<RecordedReceipt>();
        var errors = new List<ToolCallRecordingError>();
        var options = new SignetOptions
        {
            Signer = TestKeys.AgentSigner(time ?? TestKeys.Clock()),
            AuditLog = sink ?? memory,
            Target = Target,
            OnReceipt = r => { lock (recorded) { recorded.Add(r); } },
            OnError = e => { lock (errors) { errors.Add(e); } },
        };
        options = configure?.Invoke(options) ?? options;
        return (new ToolCallRecorder(options), memory, recorded, errors);
    }

    private static ReceiptVerification VerifyAsAgent(Receipt receipt, TimeProvider? time = null) =>
        ReceiptVerifier.Verify(receipt, new ReceiptVerificationOptions
        {
            TrustedKeys = [TestKeys.Agent.PublicKey],
            TimeProvider = time ?? TimeProvider.System,
        });

    private static JsonObject EchoResult(string text) => new()
    {
        ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text }),
    };

    [Fact]
    public async Task OnRequestAsync_Call_SignsStoresThenMergesReceipt()
    {
        JsonObject? metaAtAppend = null;
        var callParams = CallParams("echo", new JsonObject { ["message"] = "hi" });
        var sink = new MemorySink { OnAppend = _ => metaAtAppend = callParams["_meta"]?.DeepClone() as JsonObject };
        var (recorder, _, recorded, _) = Create(sink: sink);

        await recorder.OnRequestAsync(callParams, "n:7", "session-1");

        Assert.Null(metaAtAppend); // stored before it was attached to the outgoing call
        var stored = Assert.Single(sink.Receipts);
        var attached = callParams["_meta"]![SignetMetaKeys.Receipt]!.AsObject();
        Assert.Equal(stored.ToJsonString(), Receipt.FromJson(attached).ToJsonString());
        Assert.Null(callParams["_meta"]![SignetMetaKeys.ReferenceReceipt]);
        Assert.True(VerifyAsAgent(stored).IsValid, VerifyAsAgent(stored).ToString());
        var action = stored.Action!;
        Assert.Equal("echo", action["tool"]!.GetValue<string>());
        Assert.Equal("{\"message\":\"hi\"}", action["params"]!.ToJsonString());
        Assert.Equal(Target, action["target"]!.GetValue<string>());
        Assert.Equal("stdio", action["transport"]!.GetValue<string>());
        Assert.Equal("session-1", action["session"]!.GetValue<string>());
        Assert.Equal("n:7", action["call_id"]!.GetValue<string>());
        Assert.Null(action["parent_receipt_id"]);
        var r = Assert.Single(recorded);
        Assert.Equal((RecordedReceiptKind.Request, true, true), (r.Kind, r.IsStored, r.IsAnchored));
        Assert.Equal(1, recorder.PendingCount);
    }

    [Theory]
    [InlineData(false, "v2 deferred")]
    [InlineData(true, "v2 durable")]
    public async Task OnResponseAsync_SyncResponseReceipts_ChoosesHowTheResponseReceiptIsStored(bool sync, string expected)
    {
        var (recorder, sink, _, _) = Create(o => new SignetOptions
        {
            Signer = o.Signer, AuditLog = o.AuditLog, Target = o.Target, OnReceipt = o.OnReceipt, OnError = o.OnError, SyncResponseReceipts = sync,
        });

        await recorder.OnRequestAsync(CallParams("echo", new JsonObject { ["message"] = "hi" }), "n:1", null);
        await recorder.OnResponseAsync("n:1", null, EchoResult("hi"), null);

        // The request receipt always waits for durability: the call is forwarded only after it.
        Assert.Equal(["v1 durable", expected], sink.Appends);
    }

    [Fact]
    public async Task OnRequestAsync_NoArguments_SignsEmptyObject()
    {
        var (recorder, sink, _, _) = Create();

        await recorder.OnRequestAsync(CallParams("get-tiny-image"), "n:1", null);

        var action = Assert.Single(sink.Receipts).Action!;
        Assert.Equal("{}", action["params"]!.ToJsonString());
        Assert.Equal(ReceiptSigner.ParamsHash(new JsonObject()), action["params_hash"]!.GetValue<string>());
        Assert.Null(action["session"]);
    }

    [Fact]
    public async Task OnRequestAsync_MetaHasOtherKeys_KeepsThemAndTakesTraceId()
    {
        var meta = new JsonObject
        {
            ["progressToken"] = "tok-1",
            ["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ["io.modelcontextprotocol/protocolVersion"] = "2026-07-28",
            ["io.modelcontextprotocol/clientInfo"] = new JsonObject { ["name"] = "c", ["version"] = "1" },
            ["x-caller"] = "agent-7",
        };
        var callParams = CallParams("echo", new JsonObject { ["message"] = "m" }, meta);
        var (recorder, sink, _, _) = Create();

        await recorder.OnRequestAsync(callParams, "n:2", null);

        var after = callParams["_meta"]!.AsObject();
        Assert.Same(meta, after);
        Assert.Equal(
            ["progressToken", "traceparent", "io.modelcontextprotocol/protocolVersion", "io.modelcontextprotocol/clientInfo", "x-caller", SignetMetaKeys.Receipt],
            after.Select(p => p.Key));
        Assert.Equal("tok-1", after["progressToken"]!.GetValue<string>());
        Assert.Equal("{\"name\":\"c\",\"version\":\"1\"}", after["io.modelcontextprotocol/clientInfo"]!.ToJsonString());
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", Assert.Single(sink.Receipts).Action!["trace_id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("00-00000000000000000000000000000000-00f067aa0ba902b7-01")]
    [InlineData("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    [InlineData("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")]
    [InlineData("not a traceparent")]
    public async Task OnRequestAsync_InvalidTraceparent_NoTraceId(string traceparent)
    {
        var (recorder, sink, _, _) = Create();

        await recorder.OnRequestAsync(CallParams(meta: new JsonObject { ["traceparent"] = traceparent }), "n:1", null);

        Assert.Null(Assert.Single(sink.Receipts).Action!["trace_id"]);
    }

    [Theory]
    [InlineData(ReceiptMetaKeyMode.Standard, new[] { SignetMetaKeys.Receipt })]
    [InlineData(ReceiptMetaKeyMode.Reference, new[] { SignetMetaKeys.ReferenceReceipt })]
    [InlineData(ReceiptMetaKeyMode.Both, new[] { SignetMetaKeys.Receipt, SignetMetaKeys.ReferenceReceipt })]
    public async Task OnRequestAsync_MetaKeyMode_WritesTheModesKeys(ReceiptMetaKeyMode mode, string[] keys)
    {
        var callParams = CallParams();
        var (recorder, sink, _, _) = Create(o => new SignetOptions
        {
            Signer = o.Signer, AuditLog = o.AuditLog, Target = o.Target, MetaKeyMode = mode,
        });

        await recorder.OnRequestAsync(callParams, "n:1", null);

        var meta = callParams["_meta"]!.AsObject();
        Assert.Equal(keys, meta.Select(p => p.Key));
        var id = Assert.Single(sink.Receipts).Id;
        Assert.All(keys, k => Assert.Equal(id, meta[k]!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task OnRequestAsync_SinkFailsFailClosed_RefusesAndMergesNothing()
    {
        var callParams = CallParams("write_file", new JsonObject { ["path"] = "/tmp/x" }, new JsonObject { ["progressToken"] = 5 });
        var (recorder, _, recorded, errors) = Create(sink: new FailingSink());

        var e = await Assert.ThrowsAsync<ToolCallRefusedException>(() => recorder.OnRequestAsync(callParams, "n:3", null).AsTask());

        Assert.Contains("write_file", e.Message, StringComparison.Ordinal);
        Assert.Contains("audit log", e.Message, StringComparison.Ordinal);
        Assert.Contains("No space left on device", e.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was sent", e.Message, StringComparison.Ordinal);
        Assert.Contains("FailOpen", e.Message, StringComparison.Ordinal);
        Assert.IsType<IOException>(e.InnerException);
        Assert.Equal("{\"progressToken\":5}", callParams["_meta"]!.ToJsonString());
        Assert.Empty(recorded);
        var error = Assert.Single(errors);
        Assert.Equal((RecordingStage.Store, "n:3", true), (error.Stage, error.CallId, error.Refused));
        Assert.Equal(0, recorder.PendingCount);
    }

    [Fact]
    public async Task OnRequestAsync_IntegerBeyond2Pow53FailClosed_RefusesWithHint()
    {
        var callParams = CallParams("get-sum", (JsonObject)JsonNode.Parse("{\"a\":9007199254740993,\"b\":1}")!);
        var (recorder, sink, _, errors) = Create();

        var e = await Assert.ThrowsAsync<ToolCallRefusedException>(() => recorder.OnRequestAsync(callParams, "n:4", null).AsTask());

        Assert.IsType<CanonicalizationException>(e.InnerException);
        Assert.Contains("could not be signed", e.Message, StringComparison.Ordinal);
        Assert.Contains("as strings", e.Message, StringComparison.Ordinal);
        Assert.Null(callParams["_meta"]);
        Assert.Empty(sink.Receipts);
        Assert.Equal(RecordingStage.SignRequest, Assert.Single(errors).Stage);
    }

    [Fact]
    public async Task OnRequestAsync_SinkFailsFailOpen_SendsSignedReceiptAndReports()
    {
        var callParams = CallParams();
        var (recorder, _, recorded, errors) = Create(
            o => new SignetOptions { Signer = o.Signer, AuditLog = o.AuditLog, Target = o.Target, FailureMode = RecordingFailureMode.FailOpen, OnReceipt = o.OnReceipt, OnError = o.OnError },
            sink: new FailingSink());

        await recorder.OnRequestAsync(callParams, "n:5", null);

        var attached = Receipt.FromJson(callParams["_meta"]![SignetMetaKeys.Receipt]!.AsObject());
        Assert.True(VerifyAsAgent(attached).IsValid);
        var r = Assert.Single(recorded);
        Assert.False(r.IsStored);
        var error = Assert.Single(errors);
        Assert.Equal((RecordingStage.Store, false), (error.Stage, error.Refused));
        Assert.Contains(attached.Id, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, recorder.PendingCount);
    }

    [Fact]
    public async Task OnRequestAsync_SigningFailsFailOpen_SendsUnsignedWithoutStaleReceipt()
    {
        var (recorder, sink, _, errors) = Create(o => new SignetOptions
        {
            Signer = o.Signer, AuditLog = o.AuditLog, Target = o.Target, FailureMode = RecordingFailureMode.FailOpen, OnError = o.OnError,
        });
        var callParams = CallParams("get-sum", new JsonObject { ["a"] = 1 });
        await recorder.OnRequestAsync(callParams, "n:1", null);
        Assert.NotNull(callParams["_meta"]![SignetMetaKeys.Receipt]);

        // The same params re-sent with an argument that cannot be signed.
        callParams["arguments"] = JsonNode.Parse("{\"a\":9007199254740993}");
        await recorder.OnRequestAsync(callParams, "n:2", null);

        Assert.Null(callParams["_meta"]![SignetMetaKeys.Receipt]);
        Assert.Single(sink.Receipts);
        Assert.Equal((RecordingStage.SignRequest, false), (Assert.Single(errors).Stage, errors[0].Refused));
    }

    [Fact]
    public async Task OnRequestAsync_MetaNotAnObject_Refuses()
    {
        var callParams = CallParams();
        callParams["_meta"] = "oops";
        var (recorder, sink, _, _) = Create();

        var e = await Assert.ThrowsAsync<ToolCallRefusedException>(() => recorder.OnRequestAsync(callParams, "n:1", null).AsTask());

        Assert.Contains("_meta", e.Message, StringComparison.Ordinal);
        Assert.Equal("\"oops\"", callParams["_meta"]!.ToJsonString());
        Assert.Empty(sink.Receipts);
    }

    [Fact]
    public async Task OnRequestAsync_SameParamsSentAgain_NewReceiptLinkedToPrevious()
    {
        var callParams = CallParams("echo", new JsonObject { ["message"] = "again" }, new JsonObject { ["progressToken"] = "p" });
        var (recorder, sink, _, _) = Create();

        await recorder.OnRequestAsync(callParams, "n:1", null);
        await recorder.OnRequestAsync(callParams, "n:1", null);

        Assert.Equal(2, sink.Receipts.Count);
        var (first, second) = (sink.Receipts[0], sink.Receipts[1]);
        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(first.Id, second.Action!["parent_receipt_id"]!.GetValue<string>());
        Assert.Equal(second.Id, callParams["_meta"]![SignetMetaKeys.Receipt]!["id"]!.GetValue<string>());
        Assert.Equal(["progressToken", SignetMetaKeys.Receipt], callParams["_meta"]!.AsObject().Select(p => p.Key));
        Assert.True(VerifyAsAgent(second).IsValid);
        Assert.Equal(1, recorder.PendingCount);
    }

    [Fact]
    public async Task OnRequestAsync_SameIdWhilePending_LinkedToPrevious()
    {
        var (recorder, sink, _, _) = Create();

        await recorder.OnRequestAsync(CallParams(), "s:abc", "sess");
        await recorder.OnRequestAsync(CallParams(), "s:abc", "sess");
        await recorder.OnRequestAsync(CallParams(), "s:abc", "other-session");

        Assert.Equal(sink.Receipts[0].Id, sink.Receipts[1].Action!["parent_receipt_id"]!.GetValue<string>());
        Assert.Null(sink.Receipts[2].Action!["parent_receipt_id"]);
        Assert.Equal(2, recorder.PendingCount);
    }

    [Fact]
    public async Task OnRequestAsync_MrtrRetry_LinkedToPreviousAttempt()
    {
        var (recorder, sink, _, _) = Create();
        var first = CallParams("confirm-delete", new JsonObject { ["path"] = "a.txt" });
        await recorder.OnRequestAsync(first, "n:10", null);
        var inputRequired = new JsonObject
        {
            ["resultType"] = "input_required",
            ["inputRequests"] = new JsonObject { ["q1"] = new JsonObject { ["method"] = "elicitation/create" } },
            ["requestState"] = "opaque-1",
        };
        await recorder.OnResponseAsync("n:10", null, inputRequired, null);

        // What the SDK does for the retry: deep-clone the sent params, add inputResponses and requestState, new id.
        var retry = first.DeepClone().AsObject();
        retry["inputResponses"] = new JsonObject { ["q1"] = new JsonObject { ["action"] = "accept" } };
        retry["requestState"] = "opaque-1";
        await recorder.OnRequestAsync(retry, "n:11", null);
        await recorder.OnResponseAsync("n:11", null, EchoResult("deleted"), null);

        var requests = sink.OfVersion(1);
        Assert.Equal(2, requests.Count);
        Assert.Equal(requests[0].Id, requests[1].Action!["parent_receipt_id"]!.GetValue<string>());
        Assert.Equal("n:11", requests[1].Action!["call_id"]!.GetValue<string>());
        var compounds = sink.OfVersion(2);
        Assert.Equal(2, compounds.Count);
        Assert.Null(compounds[0].Json["response"]!["outcome"]);
        Assert.Equal("executed", compounds[1].Json["response"]!["outcome"]!["status"]!.GetValue<string>());
        Assert.Equal(requests[0].Id, compounds[1].Action!["parent_receipt_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task OnRequestAsync_ReceiptFromAnotherKeyInMeta_NotTakenAsParent()
    {
        var foreign = TestKeys.ServerSigner().SignRequest(new ReceiptAction { Tool = "echo", Params = new JsonObject(), Target = Target });
        var callParams = CallParams(meta: new JsonObject { [SignetMetaKeys.Receipt] = foreign.Json.DeepClone() });
        var (recorder, sink, _, _) = Create();

        await recorder.OnRequestAsync(callParams, "n:1", null);

        Assert.Null(Assert.Single(sink.Receipts).Action!["parent_receipt_id"]);
    }

    [Fact]
    public async Task OnResponseAsync_Result_SignsExecutedCompound()
    {
        var clock = TestKeys.Clock();
        var (recorder, sink, recorded, _) = Create(time: clock);
        await recorder.OnRequestAsync(CallParams("echo", new JsonObject { ["message"] = "hi" }), "n:1", "s1");
        var result = EchoResult("Echo: hi");
        var before = result.ToJsonString();

        await recorder.OnResponseAsync("n:1", "s1", result, null);

        Assert.Equal(before, result.ToJsonString());
        var v1 = sink.OfVersion(1).Single();
        var v2 = sink.OfVersion(2).Single();
        var verification = VerifyAsAgent(v2, clock);
        Assert.True(verification.IsValid, verification.ToString());
        Assert.Equal(JsonCanonicalizer.Sha256(result), v2.Json["response"]!["content_hash"]!.GetValue<string>());
        Assert.Equal("{\"status\":\"executed\"}", v2.Json["response"]!["outcome"]!.ToJsonString());
        Assert.Equal(v1.Action!.ToJsonString(), v2.Action!.ToJsonString());
        Assert.True(string.CompareOrdinal(v2.Json["ts_request"]!.GetValue<string>(), v1.Json["ts"]!.GetValue<string>()) <= 0);
        Assert.Equal(RecordedReceiptKind.Response, recorded[^1].Kind);
        Assert.Equal(0, recorder.PendingCount);
    }

    [Fact]
    public async Task OnResponseAsync_IsError_FailedWithFirstText()
    {
        var (recorder, sink, _, _) = Create();
        await recorder.OnRequestAsync(CallParams(), "n:1", null);
        var result = new JsonObject
        {
            ["content"] = new JsonArray(new JsonObject { ["type"] = "image", ["data"] = "AA==" }, new JsonObject { ["type"] = "text", ["text"] = "disk full" }),
            ["isError"] = true,
        };

        await recorder.OnResponseAsync("n:1", null, result, null);

        Assert.Equal("{\"status\":\"failed\",\"error\":\"disk full\"}", sink.OfVersion(2).Single().Json["response"]!["outcome"]!.ToJsonString());
    }

    [Fact]
    public async Task OnResponseAsync_JsonRpcError_FailedWithMessageAndErrorHashed()
    {
        var (recorder, sink, _, _) = Create();
        await recorder.OnRequestAsync(CallParams("nope"), "n:1", null);
        var error = new JsonObject { ["code"] = -32602, ["message"] = "Unknown tool: nope" };

        await recorder.OnResponseAsync("n:1", null, null, error);

        var v2 = sink.OfVersion(2).Single();
        Assert.Equal("{\"status\":\"failed\",\"error\":\"Unknown tool: nope\"}", v2.Json["response"]!["outcome"]!.ToJsonString());
        Assert.Equal(JsonCanonicalizer.Sha256(error), v2.Json["response"]!["content_hash"]!.GetValue<string>());
        Assert.True(VerifyAsAgent(v2).IsValid);
    }

    [Fact]
    public async Task OnResponseAsync_UnknownCall_RecordsNothing()
    {
        var (recorder, sink, _, _) = Create();

        await recorder.OnResponseAsync("n:99", null, EchoResult("x"), null);

        Assert.Empty(sink.Receipts);
    }

    [Fact]
    public async Task Forget_PendingCall_ResponseNotRecorded()
    {
        var (recorder, sink, _, _) = Create();
        await recorder.OnRequestAsync(CallParams(), "n:1", null);

        recorder.Forget("n:1", null);
        await recorder.OnResponseAsync("n:1", null, EchoResult("late"), null);

        Assert.Equal(0, recorder.PendingCount);
        Assert.Single(sink.Receipts);
    }

    [Fact]
    public async Task OnRequestAsync_MorePendingThanMax_DropsOldestAndReports()
    {
        var (recorder, sink, _, errors) = Create(o => new SignetOptions
        {
            Signer = o.Signer, AuditLog = o.AuditLog, Target = o.Target, MaxPendingCalls = 2, OnError = o.OnError,
        });

        for (var i = 1; i <= 3; i++)
        {
            await recorder.OnRequestAsync(CallParams(), $"n:{i}", null);
        }
        await recorder.OnResponseAsync("n:1", null, EchoResult("x"), null);
        await recorder.OnResponseAsync("n:3", null, EchoResult("x"), null);

        Assert.Equal(1, recorder.PendingCount);
        recorder.Forget("n:2", null);
        Assert.Equal(0, recorder.PendingCount);
        var error = Assert.Single(errors);
        Assert.Equal((RecordingStage.PendingOverflow, "n:1", false), (error.Stage, error.CallId, error.Refused));
        Assert.Equal(["n:3"], sink.OfVersion(2).Select(r => r.Action!["call_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task OnResponseAsync_SinkFailsFailClosed_WithholdsResponse()
    {
        var (recorder, _, _, errors) = Create(sink: new FailingSink(succeedFirst: 1));
        await recorder.OnRequestAsync(CallParams(), "n:1", null);

        var e = await Assert.ThrowsAsync<ToolCallRefusedException>(() => recorder.OnResponseAsync("n:1", null, EchoResult("x"), null).AsTask());

        Assert.Contains("the tool ran", e.Message, StringComparison.Ordinal);
        Assert.Equal((RecordingStage.Store, true), (Assert.Single(errors).Stage, errors[0].Refused));
    }

    // ---- co-signatures ----

    private static async Task<(ToolCallRecorder Recorder, MemorySink Sink, List<RecordedReceipt> Recorded, List<ToolCallRecordingError> Errors, Receipt V1)> SentCall(
        IReadOnlyList<Keys.PublicKey>? trusted = null, bool require = false, TimeProvider? clock = null)
    {
        clock ??= TestKeys.Clock();
        var created = Create(o => new SignetOptions
        {
            Signer = o.Signer, AuditLog = o.AuditLog, Target = o.Target, OnReceipt = o.OnReceipt, OnError = o.OnError,
            TrustedServerKeys = [.. trusted ?? []], RequireCoSignature = require,
        }, clock);
        await created.Recorder.OnRequestAsync(CallParams("echo", new JsonObject { ["message"] = "hi" }), "n:1", null);
        return (created.Recorder, created.Sink, created.Recorded, created.Errors, created.Sink.OfVersion(1).Single());
    }

    private static JsonObject CoSigned(JsonObject result, Receipt v1, string key = SignetMetaKeys.CoSignature, ReceiptSigner? server = null, TimeProvider? clock = null, JsonNode? signedContent = null)
    {
        server ??= TestKeys.ServerSigner(clock ?? TestKeys.Clock());
        var v3 = server.CoSign(v1, signedContent ?? result, ReceiptOutcome.Executed);
        var withSig = result.DeepClone().AsObject();
        if (withSig["_meta"] is not JsonObject meta)
        {
            meta = [];
            withSig["_meta"] = meta;
        }
        meta[key] = v3.Json.DeepClone();
        return withSig;
    }

    [Theory]
    [InlineData(SignetMetaKeys.CoSignature)]
    [InlineData(SignetMetaKeys.ReferenceCoSignature)]
    public async Task OnResponseAsync_ValidTrustedCoSignature_StoresV3(string key)
    {
        var clock = TestKeys.Clock();
        var (recorder, sink, recorded, errors, v1) = await SentCall([TestKeys.Server.PublicKey], require: true, clock: clock);
        var plain = EchoResult("Echo: hi");
        var result = CoSigned(plain, v1, key, clock: clock);
        var before = result.ToJsonString();

        await recorder.OnResponseAsync("n:1", null, result, null);

        Assert.Equal(before, result.ToJsonString());
        Assert.Empty(errors);
        var v2 = sink.OfVersion(2).Single();
        Assert.Equal(JsonCanonicalizer.Sha256(plain), v2.Json["response"]!["content_hash"]!.GetValue<string>());
        var v3 = sink.OfVersion(3).Single();
        Assert.Equal(v1.Id, v3.Json["agent_receipt"]!["id"]!.GetValue<string>());
        var check = ReceiptVerifier.Verify(v3, new ReceiptVerificationOptions { TrustedKeys = [TestKeys.Server.PublicKey], TimeProvider = clock });
        Assert.True(check.IsValid, check.ToString());
        var r = recorded[^1];
        Assert.Equal((RecordedReceiptKind.CoSignature, true, true), (r.Kind, r.IsAnchored, r.IsStored));
    }

    [Fact]
    public async Task OnResponseAsync_CoSignatureWithOtherMetaKeys_HashesResultWithoutIt()
    {
        var clock = TestKeys.Clock();
        var (recorder, sink, _, errors, v1) = await SentCall([TestKeys.Server.PublicKey], clock: clock);
        var plain = EchoResult("x");
        plain["_meta"] = new JsonObject { ["server-note"] = 1 };

        await recorder.OnResponseAsync("n:1", null, CoSigned(plain, v1, clock: clock), null);

        Assert.Empty(errors);
        Assert.Equal(JsonCanonicalizer.Sha256(plain), sink.OfVersion(2).Single().Json["response"]!["content_hash"]!.GetValue<string>());
        Assert.Single(sink.OfVersion(3));
    }

    [Fact]
    public async Task OnResponseAsync_ProtocolFieldsAddedPerHop_NotHashed()
    {
        var clock = TestKeys.Clock();
        var (recorder, sink, _, errors, v1) = await SentCall([TestKeys.Server.PublicKey], require: true, clock: clock);
        var plain = EchoResult("x");
        plain["_meta"] = new JsonObject { ["tool-note"] = "kept" };
        var received = CoSigned(plain, v1, clock: clock);
        received["resultType"] = "complete";
        received["_meta"]!["io.modelcontextprotocol/serverInfo"] = new JsonObject { ["name"] = "s", ["version"] = "1" };

        await recorder.OnResponseAsync("n:1", null, received, null);

        Assert.Empty(errors);
        Assert.Equal(JsonCanonicalizer.Sha256(plain), sink.OfVersion(2).Single().Json["response"]!["content_hash"]!.GetValue<string>());
        Assert.Equal(sink.OfVersion(2).Single().Json["response"]!["content_hash"]!.ToJsonString(), sink.OfVersion(3).Single().Json["response"]!["content_hash"]!.ToJsonString());
    }

    [Fact]
    public async Task OnResponseAsync_NoTrustedKeys_AcceptsAsIntegrityOnly()
    {
        var clock = TestKeys.Clock();
        var (recorder, sink, recorded, errors, v1) = await SentCall(clock: clock);

        await recorder.OnResponseAsync("n:1", null, CoSigned(EchoResult("x"), v1, server: TestKeys.ServerSigner(clock, TestKeys.Other)), null);

        Assert.Empty(errors);
        Assert.Single(sink.OfVersion(3));
        var r = recorded[^1];
        Assert.Equal((RecordedReceiptKind.CoSignature, false), (r.Kind, r.IsAnchored));
    }

    [Fact]
    public async Task OnResponseAsync_UntrustedServerKey_ReportsAndDelivers()
    {
        var clock = TestKeys.Clock();
        var (recorder, sink, _, errors, v1) = await SentCall([TestKeys.Server.PublicKey], clock: clock);

        await recorder.OnResponseAsync("n:1", null, CoSigned(EchoResult("x"), v1, server: TestKeys.ServerSigner(clock, TestKeys.Other)), null);

        Assert.Empty(sink.OfVersion(3));
        Assert.Single(sink.OfVersion(2));
        var error = Assert.Single(errors);
        Assert.Equal((RecordingStage.CoSignature, false), (error.Stage, error.Refused));
        Assert.Contains("not one of the trusted keys", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnResponseAsync_UntrustedServerKeyRequired_Refuses()
    {
        var clock = TestKeys.Clock();
        var (recorder, sink, _, errors, v1) = await SentCall([TestKeys.Server.PublicKey], require: true, clock: clock);

        var e = await Assert.ThrowsAsync<ToolCallRefusedException>(() =>
            recorder.OnResponseAsync("n:1", null, CoSigned(EchoResult("x"), v1, server: TestKeys.ServerSigner(clock, TestKeys.Other)), null).AsTask());

        Assert.Contains("not one of the trusted keys", e.Message, StringComparison.Ordinal);
        Assert.Contains("RequireCoSignature", e.Message, StringComparison.Ordinal);
        Assert.Empty(sink.OfVersion(3));
        Assert.True(Assert.Single(errors).Refused);
    }

    [Fact]
    public async Task OnResponseAsync_CoSignatureOverAnotherReceipt_Refused()
    {
        var clock = TestKeys.Clock();
        var (recorder, sink, _, _, _) = await SentCall([TestKeys.Server.PublicKey], require: true, clock: clock);
        var otherV1 = TestKeys.AgentSigner(clock).SignRequest(new ReceiptAction { Tool = "echo", Params = new JsonObject { ["message"] = "hi" }, Target = Target, CallId = "n:1" });

        var e = await Assert.ThrowsAsync<ToolCallRefusedException>(() =>
            recorder.OnResponseAsync("n:1", null, CoSigned(EchoResult("x"), otherV1, clock: clock), null).AsTask());

        Assert.Contains("not " + sink.OfVersion(1).Single().Id, e.Message, StringComparison.Ordinal);
        Assert.Empty(sink.OfVersion(3));
    }

    [Fact]
    public async Task OnResponseAsync_CoSignatureOverOtherContent_Refused()
    {
        var clock = TestKeys.Clock();
        var (recorder, sink, _, _, v1) = await SentCall([TestKeys.Server.PublicKey], require: true, clock: clock);

        var e = await Assert.ThrowsAsync<ToolCallRefusedException>(() =>
            recorder.OnResponseAsync("n:1", null, CoSigned(EchoResult("what the tool said"), v1, clock: clock, signedContent: EchoResult("something else")), null).AsTask());

        Assert.Contains("content_hash", e.Message, StringComparison.Ordinal);
        Assert.Empty(sink.OfVersion(3));
    }

    [Fact]
    public async Task OnResponseAsync_TamperedCoSignature_Refused()
    {
        var clock = TestKeys.Clock();
        var (recorder, sink, _, _, v1) = await SentCall([TestKeys.Server.PublicKey], require: true, clock: clock);
        var result = CoSigned(EchoResult("x"), v1, clock: clock);
        result["_meta"]![SignetMetaKeys.CoSignature]!["server"]!["name"] = "someone-else";

        var e = await Assert.ThrowsAsync<ToolCallRefusedException>(() => recorder.OnResponseAsync("n:1", null, result, null).AsTask());

        Assert.Contains("signature mismatch", e.Message, StringComparison.Ordinal);
        Assert.Empty(sink.OfVersion(3));
    }

    [Fact]
    public async Task OnResponseAsync_CoSignatureNotAnObject_Refused()
    {
        var (recorder, _, _, _, _) = await SentCall(require: true);
        var result = EchoResult("x");
        result["_meta"] = new JsonObject { [SignetMetaKeys.CoSignature] = "forged" };

        var e = await Assert.ThrowsAsync<ToolCallRefusedException>(() => recorder.OnResponseAsync("n:1", null, result, null).AsTask());

        Assert.Contains("not a JSON object", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnResponseAsync_MissingCoSignatureRequired_Refused()
    {
        var (recorder, sink, _, errors, _) = await SentCall([TestKeys.Server.PublicKey], require: true);

        var e = await Assert.ThrowsAsync<ToolCallRefusedException>(() => recorder.OnResponseAsync("n:1", null, EchoResult("x"), null).AsTask());

        Assert.Contains("no co-signature", e.Message, StringComparison.Ordinal);
        Assert.Single(sink.OfVersion(2));
        Assert.Equal(RecordingStage.CoSignature, Assert.Single(errors).Stage);
    }

    [Fact]
    public async Task OnResponseAsync_MissingCoSignatureNotRequired_Delivers()
    {
        var (recorder, sink, _, errors, _) = await SentCall([TestKeys.Server.PublicKey]);

        await recorder.OnResponseAsync("n:1", null, EchoResult("x"), null);

        Assert.Empty(errors);
        Assert.Single(sink.OfVersion(2));
        Assert.Empty(sink.OfVersion(3));
    }

    [Fact]
    public async Task OnRequestAsync_FiftyConcurrentCalls_AllRecordedAndVerify()
    {
        var path = Path.Combine(Path.GetTempPath(), $"signet-recorder-{Guid.NewGuid():N}.jsonl");
        try
        {
            using (var file = new JsonLinesFileSink(path))
            {
                var recorder = new ToolCallRecorder(new SignetOptions { Signer = TestKeys.AgentSigner(), AuditLog = file, Target = Target });
                await Task.WhenAll(Enumerable.Range(1, 50).Select(i => Task.Run(async () =>
                {
                    var callParams = CallParams("echo", new JsonObject { ["message"] = $"m{i}" });
                    await recorder.OnRequestAsync(callParams, $"n:{i}", null);
                    await recorder.OnResponseAsync($"n:{i}", null, EchoResult($"Echo: m{i}"), null);
                }))).WaitAsync(TimeSpan.FromSeconds(60));
                Assert.Equal(0, recorder.PendingCount);
            }

            var receipts = JsonLinesFileSink.Read(path);
            Assert.Equal(50, receipts.Count(r => r.Version == 1));
            Assert.Equal(50, receipts.Count(r => r.Version == 2));
            Assert.All(receipts, r => Assert.True(VerifyAsAgent(r).IsValid, VerifyAsAgent(r).ToString()));
            foreach (var v2 in receipts.Where(r => r.Version == 2))
            {
                var n = v2.Action!["call_id"]!.GetValue<string>()[2..];
                Assert.Equal($"{{\"message\":\"m{n}\"}}", v2.Action!["params"]!.ToJsonString());
                Assert.Equal(JsonCanonicalizer.Sha256(EchoResult($"Echo: m{n}")), v2.Json["response"]!["content_hash"]!.GetValue<string>());
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
