using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Canonicalization;
using Signet.Keys;
using Signet.Mcp;
using Signet.Cli.Proxy;
using Signet.Mcp.Recording;
using Signet.Receipts;
using Signet.Transparency;

namespace Signet.Fuzz;

/// <summary>
/// The fuzz targets. Each takes one input and throws only when it finds a bug: an exception other than the documented
/// refusals (<see cref="JsonParseException"/>, <see cref="CanonicalizationException"/>, where the API documents them),
/// or two code paths that disagree (<see cref="FuzzFinding"/>).
/// </summary>
internal static class Targets
{
    public delegate void Target(ReadOnlySpan<byte> input);

    public static IEnumerable<string> Names => ["json", "receipt", "audit-line", "proxy-line", "note"];

    /// <summary>
    /// The target of that name. Touches no static field: under afl-fuzz, instrumented code must not run before
    /// <c>Fuzzer.Run</c> has mapped the coverage memory, so this class's statics are initialized inside the first run.
    /// </summary>
    public static bool TryGet(string name, [NotNullWhen(true)] out Target? target)
    {
        target = name switch
        {
            "json" => Json,
            "receipt" => ReceiptInput,
            "audit-line" => AuditLine,
            "proxy-line" => ProxyLine,
            "note" => Note,
            _ => null,
        };
        return target is not null;
    }

    private static readonly StrictJsonOptions[] Policies =
    [
        StrictJsonOptions.Default,
        new() { DuplicateKeys = DuplicateKeyPolicy.LastWins },
        new() { DuplicateKeys = DuplicateKeyPolicy.LastWins, MaxDepth = 127 },
    ];

    /// <summary>
    /// The strict parser and both canonicalizer paths: they refuse the same inputs with the same error, give the same
    /// bytes, and canonical text is its own canonical form.
    /// </summary>
    private static void Json(ReadOnlySpan<byte> input)
    {
        foreach (var options in Policies)
        {
            JsonNode? node = null;
            JsonParseException? parseError = null;
            try
            {
                node = StrictJson.Parse(input, options);
            }
            catch (JsonParseException e)
            {
                parseError = e;
            }

            byte[]? fromBytes = null;
            SignetException? bytesError = null;
            try
            {
                fromBytes = JsonCanonicalizer.Canonicalize(input, options);
            }
            catch (Exception e) when (e is JsonParseException or CanonicalizationException)
            {
                bytesError = (SignetException)e;
            }

            if (parseError is not null)
            {
                Check(bytesError is JsonParseException p && p.Message == parseError.Message,
                    $"the parser refused the text ({parseError.Message}) but the byte canonicalizer said {Describe(fromBytes, bytesError)}");
                continue;
            }

            byte[]? fromTree = null;
            CanonicalizationException? treeError = null;
            try
            {
                fromTree = JsonCanonicalizer.Canonicalize(node);
            }
            catch (CanonicalizationException e)
            {
                treeError = e;
            }
            if (treeError is not null)
            {
                Check(bytesError is CanonicalizationException, $"the tree path refused the value ({treeError.Message}) but the byte path said {Describe(fromBytes, bytesError)}");
                continue;
            }
            Check(fromBytes is not null && fromBytes.AsSpan().SequenceEqual(fromTree), $"the byte path said {Describe(fromBytes, bytesError)}, the tree path {Describe(fromTree, null)}");

            // Canonical text parses under the strictest options and is its own canonical form on both paths, except
            // for the reference's integer rule (FORMAT.md §2, quirk 1): 9007199254740993.0 becomes 9007199254740992,
            // an integer lexeme of 2^53 that neither side canonicalizes again.
            var reparsed = StrictJson.Parse(fromTree);
            try
            {
                var again = JsonCanonicalizer.Canonicalize(fromTree.AsSpan());
                Check(again.AsSpan().SequenceEqual(fromTree), $"canon(canon(x)) differs: {Describe(again, null)} after {Describe(fromTree, null)}");
                Check(JsonCanonicalizer.Canonicalize(reparsed).AsSpan().SequenceEqual(fromTree), "the canonical text reparsed gives other bytes");
            }
            catch (CanonicalizationException e)
            {
                Check(e.Message.Contains("is not below 2^53", StringComparison.Ordinal), $"canonical text that cannot be canonicalized again: {e.Message}");
            }
            _ = JsonCanonicalizer.Sha256(node);
        }
    }

    private static readonly TimeProvider Clock = new FixedTime(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
    private static readonly SigningKey Key = SigningKey.FromSeed(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private static readonly ReceiptVerificationOptions[] VerifyModes =
    [
        new() { TimeProvider = Clock },
        new() { TimeProvider = Clock, Lax = true },
        new() { TimeProvider = Clock, AllowExpired = true, TrustedKeys = [Key.PublicKey], TrustedAgentKeys = [Key.PublicKey] },
    ];

    /// <summary>Receipt verification returns a result for any bytes; it never throws.</summary>
    private static void ReceiptInput(ReadOnlySpan<byte> input)
    {
        foreach (var options in VerifyModes)
        {
            var result = ReceiptVerifier.Verify(input, options);
            Check(result.IsValid || !string.IsNullOrEmpty(result.Reason), "an invalid receipt without a reason");
        }
        try
        {
            var receipt = Receipt.Parse(input);
            _ = ReceiptVerifier.Verify(receipt, VerifyModes[0]);
            _ = receipt.ToJsonString();
        }
        catch (JsonParseException)
        {
        }
    }

    private static readonly string AuditDirectory = Directory.CreateTempSubdirectory("signet-fuzz-audit-").FullName;
    private static readonly string DayFile = Path.Combine(AuditDirectory, "2026-11-26.jsonl");

    /// <summary>
    /// One day file holding the input, read the way <c>log verify</c> (with and without signatures), <c>log show</c>
    /// and the byte path read it; the byte path and the tree path agree on every record's hash.
    /// </summary>
    private static void AuditLine(ReadOnlySpan<byte> input)
    {
        foreach (var range in input.Split((byte)'\n'))
        {
            var line = input[range];
            if (AuditRecordFormat.TryHashRecord(line, out var prev, out var hash, out var recomputed))
            {
                var record = AuditRecordFormat.TryParse(line, out var error, out _);
                Check(record is not null, $"the byte path read a record the tree path refuses: {error}");
                Check(record!.PrevHash == prev && record.RecordHash == hash, "the two paths read different hashes");
                Check(AuditRecordFormat.RecordHash(record.PrevHash, record.Receipt) == recomputed, "the two paths compute different record hashes");
            }
        }

        File.WriteAllBytes(DayFile, input);
        foreach (var signatures in new[] { false, true })
        {
            var result = AuditVerifier.Verify(AuditDirectory, new AuditVerifyOptions { VerifySignatures = signatures, TrustedKeys = [Key.PublicKey] });
            Check(result.Break is null || !string.IsNullOrEmpty(result.Break.Message), "a break without a message");
        }
        foreach (var entry in AuditQuery.Read(AuditDirectory, new AuditQueryFilter { Tool = "t", Since = Clock.GetUtcNow().AddDays(-1) }, _ => { }))
        {
            _ = (entry.Timestamp, entry.Tool, entry.SignerName, entry.ReceiptId, entry.Version);
        }
    }

    /// <summary>
    /// The stdio proxy's line handling: the input is the client's traffic (after two pending calls) and then the
    /// server's; nothing may throw, and the session must not end before the client's input does.
    /// </summary>
    private static void ProxyLine(ReadOnlySpan<byte> input)
    {
        var recorder = new ToolCallRecorder(new SignetOptions
        {
            Signer = new ReceiptSigner(Key, "fuzz", "", Clock),
            AuditLog = new NullSink(),
            Target = "mcp://fuzz",
        });
        var prelude = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"t\",\"arguments\":{}}}\n{\"jsonrpc\":\"2.0\",\"id\":\"z\",\"method\":\"tools/call\",\"params\":{\"name\":\"t\"}}\n"u8;
        using var toClient = new MemoryStream();
        using var toServer = new MemoryStream();
        using var proxy = new LineProxy(recorder, toClient, toServer);
        var bytes = input.ToArray();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var upstream = proxy.RunUpstreamAsync(new MemoryStream([.. prelude, .. bytes]), timeout.Token).GetAwaiter().GetResult();
        Check(upstream, "the session ended before the client's input did");
        proxy.RunDownstreamAsync(new MemoryStream(bytes), timeout.Token).GetAwaiter().GetResult();
        proxy.FailPendingAsync("fuzz: end of input", timeout.Token).GetAwaiter().GetResult();
    }

    private static readonly NoteVerifierKey NoteKey = NoteVerifierKey.ForSignatures("example.com/log", Key.PublicKey);
    private static readonly WitnessPolicy NotePolicy = WitnessPolicy.Threshold(1, [NoteVerifierKey.ForCosignatures("w.example", Key.PublicKey)]);

    /// <summary>
    /// The input as UTF-8 text to every transparency parser: each refuses with <see cref="NoteFormatException"/> only,
    /// what one accepts it writes back unchanged (up to duplicate signature lines, kept once), and checkpoint
    /// verification refuses with <see cref="CheckpointVerificationException"/> only.
    /// </summary>
    private static void Note(ReadOnlySpan<byte> input)
    {
        var text = Encoding.UTF8.GetString(input);
        Refuse(() =>
        {
            var note = SignedNote.Parse(text);
            Check(SignedNote.Parse(note.ToString()).ToString() == note.ToString(), "a signed note does not write back as it was read");
            var signatureLines = text.AsSpan(note.Text.Length + 1).Count('\n');
            Check(note.ToString() == text || note.Signatures.Count < signatureLines, "a signed note without duplicate signatures writes back differently");
        });
        Refuse(() => Check(Checkpoint.Parse(text).ToText() == text, "a checkpoint writes back differently"));
        Refuse(() =>
        {
            var checkpoint = SignedCheckpoint.Parse(text);
            try
            {
                checkpoint.Verify(NoteKey, NotePolicy);
            }
            catch (CheckpointVerificationException)
            {
            }
        });
        Refuse(() =>
        {
            var proof = TlogProof.Parse(text);
            Check(TlogProof.Parse(proof.ToString()).ToString() == proof.ToString(), "a tlog proof does not write back as it was read");
        });
        Refuse(() =>
        {
            var body = AddCheckpointRequest.Parse(text);
            _ = body.UnprocessableReason;
            var again = AddCheckpointRequest.Format(body.OldSize, body.ConsistencyProof, body.Checkpoint);
            Check(AddCheckpointRequest.Parse(again).Checkpoint.ToString() == body.Checkpoint.ToString(), "an add-checkpoint body does not write back");
        });
        Refuse(() => AddCheckpointRequest.ParseResponse(text));
        Refuse(() => AddCheckpointRequest.ParseConflict(text));
        Refuse(() => Check(WitnessPolicy.Parse(WitnessPolicy.Parse(text).ToString()).ToString() == WitnessPolicy.Parse(text).ToString(),
            "a witness policy does not write back as it was read"));
        NoteVerifierKey.TryParse(text, out _, out _);
    }

    private static void Refuse(Action parse)
    {
        try
        {
            parse();
        }
        catch (NoteFormatException)
        {
        }
    }

    private static void Check([DoesNotReturnIf(false)] bool condition, string message)
    {
        if (!condition)
        {
            throw new FuzzFinding(message);
        }
    }

    private static string Describe(byte[]? bytes, Exception? error) =>
        error is not null ? $"{error.GetType().Name}: {error.Message}" : bytes is null ? "nothing" : Encoding.UTF8.GetString(bytes);

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private sealed class NullSink : IReceiptSink
    {
        public ValueTask AppendAsync(Receipt receipt, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }
}

/// <summary>Two code paths disagree, or an invariant does not hold: a bug even though nothing crashed.</summary>
internal sealed class FuzzFinding(string message) : Exception(message);
