using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Keys;

namespace Signet.Cli.Commands;

/// <summary><c>signet log verify | show | export</c>: the audit log.</summary>
internal static class LogCommands
{
    public static Command Create(CliConsole console)
    {
        var log = new Command("log", "Verify, show and export the hash-chained audit log");
        log.Subcommands.Add(Verify(console));
        log.Subcommands.Add(Show(console));
        log.Subcommands.Add(Export(console));
        log.Subcommands.Add(LogRepairCommand.Create(console));
        log.Subcommands.Add(LogTransparencyCommands.Checkpoint(console));
        log.Subcommands.Add(LogTransparencyCommands.Publish(console));
        log.Subcommands.Add(LogTransparencyCommands.Prove(console));
        return log;
    }

    private static Command Verify(CliConsole console)
    {
        var home = CommonOptions.Home();
        var signatures = new Option<bool>("--signatures") { Description = "Also re-verify every receipt's signature (expired receipts accepted); without --pubkey or --trusted-keys, against the key each receipt names (integrity only)" };
        var pubkeys = new Option<string[]>("--pubkey") { Description = "A trusted signer key: ed25519:<base64>, bare base64, or a .pub file (repeatable); every receipt must be signed by one (implies --signatures)" };
        var trusted = new Option<string?>("--trusted-keys") { Description = "A file of trusted keys (implies --signatures)" };
        var trustBundle = TrustedKeys.TrustBundleOption();
        trustBundle.Description = "A trust bundle: every receipt's keys judged at its own time, in chain order, with rotations announced in the log and backdating after a revocation refused (implies --signatures)";
        var trustAt = TrustedKeys.TrustAtOption();
        var expectTip = new Option<string?>("--expect-tip") { Description = "A record_hash seen earlier (e.g. a bundle's chain tip) that the log must still contain: detects removed tail records" };
        var bundle = new Option<string?>("--bundle") { Description = "Verify an exported evidence bundle directory instead of the log" };
        var allowUnsigned = new Option<bool>("--allow-unsigned") { Description = "With --bundle: accept an unsigned manifest (a reference bundle), integrity only" };
        var checkpoint = new Option<string?>("--checkpoint") { HelpName = "FILE", Description = "A signed checkpoint kept elsewhere (a witness's copy, a ticket, 'log checkpoint --save'): the log must be a consistent extension of it" };
        var logKey = new Option<string?>("--log-key") { HelpName = "VKEY", Description = "With --checkpoint: the log's verifier key the checkpoint must be signed with (default: a key in HOME/keys whose default origin it names)" };
        var witnessKeys = new Option<string[]>("--witness-key") { HelpName = "VKEY", Description = "With --checkpoint or --bundle: a witness whose cosignature the checkpoint must carry (repeatable; all of them unless --witnesses)", AllowMultipleArgumentsPerToken = false };
        var witnessCount = new Option<int?>("--witnesses") { HelpName = "N", Description = "How many of the --witness-key witnesses must have cosigned (default: all)" };
        var tiles = new Option<string?>("--tiles") { HelpName = "DIR", Description = "With --checkpoint: the folder holding the tile/ kept with it (default: the checkpoint file's folder, when it has one), to name the first record that differs" };
        var json = CommonOptions.Json();
        var command = new Command("verify", "Walk the chain across all day files; exit 0 when intact, 1 at the first break")
        {
            home, signatures, pubkeys, trusted, trustBundle, trustAt, expectTip, bundle, allowUnsigned, checkpoint, logKey, witnessKeys, witnessCount, tiles, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            // With --bundle, --pubkey names the manifest's signer and the trust bundle judges the receipts: both may be given.
            var (keys, trustFile, trustTime) = TrustedKeys.Resolve(parse, pubkeys, trusted, trustBundle, trustAt, console, keysAreForSomethingElse: parse.GetValue(bundle) is not null);
            var policy = LogTransparencyCommands.Policy(parse.GetValue(witnessKeys) ?? [], parse.GetValue(witnessCount));
            var checkpointKey = parse.GetValue(logKey) is { } keyText ? LogTransparencyCommands.ParseLogKey(keyText) : null;
            if (parse.GetValue(bundle) is { } bundleDir)
            {
                if (parse.GetValue(checkpoint) is not null || parse.GetValue(tiles) is not null)
                {
                    throw new CliUsageException("--checkpoint and --tiles check the log, not a bundle (a bundle carries its checkpoint)");
                }
                return await VerifyBundle(console, bundleDir, keys, trustFile, trustTime, parse.GetValue(signatures), parse.GetValue(allowUnsigned), parse.GetValue(json), checkpointKey, policy);
            }
            if (parse.GetValue(expectTip) is { } tip && !Signet.Canonicalization.SignetHash.IsWellFormed(tip))
            {
                throw new CliUsageException($"--expect-tip {tip}: give a record_hash, sha256: and 64 lowercase hex digits");
            }
            var homeDir = CommonOptions.ResolveHome(parse.GetValue(home), console);
            var directory = SignetHome.AuditDirectory(homeDir);
            if (parse.GetValue(checkpoint) is null && (checkpointKey is not null || parse.GetValue(tiles) is not null || policy is not null))
            {
                throw new CliUsageException("--log-key, --witness-key and --tiles go with --checkpoint or --bundle");
            }
            var checkpointReport = parse.GetValue(checkpoint) is { } checkpointFile
                ? LogTransparencyCommands.VerifyCheckpointFile(console, homeDir, directory, checkpointFile, checkpointKey, policy, parse.GetValue(tiles))
                : null;
            var result = AuditVerifier.Verify(directory, new AuditVerifyOptions
            {
                // A trusted key is only worth giving if the signatures are checked against it.
                VerifySignatures = parse.GetValue(signatures) || keys.Count > 0 || trustFile is not null,
                TrustedKeys = keys,
                TrustBundle = trustFile,
                TrustAt = trustTime,
                ExpectedTip = parse.GetValue(expectTip),
            });
            await LogRepairCommand.WriteVerifyWarnings(console, result);
            if (parse.GetValue(json))
            {
                var report = ToJson(result, directory);
                report["signatures"]!["anchored"] = result.SignaturesChecked > 0 && (keys.Count > 0 || trustFile is not null);
                report["expected_tip"] = parse.GetValue(expectTip);
                if (checkpointReport is not null)
                {
                    report["checkpoint"] = checkpointReport.ToJson();
                }
                await console.Out.WriteLineAsync(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                await WriteHuman(console, result, directory, anchored: keys.Count > 0 || trustFile is not null, parse.GetValue(expectTip));
                if (checkpointReport is not null)
                {
                    await checkpointReport.WriteAsync(console);
                }
            }
            return result.IsValid && checkpointReport is not { Consistent: false } ? SignetCli.Ok : SignetCli.Failed;
        });
        return command;
    }

    private static async Task WriteHuman(CliConsole console, AuditVerifyResult result, string directory, bool anchored, string? expectedTip)
    {
        foreach (var torn in result.TornTails)
        {
            await console.Error.WriteLineAsync($"signet: note: a torn last line ({torn.Length} bytes) left by a crash was moved aside and kept as {torn.Path}");
        }
        if (result.Break is { } b)
        {
            await console.Out.WriteLineAsync($"chain BROKEN at {Path.GetFileName(b.File)} line {b.Line}: {Describe(b.Kind)}");
            await console.Out.WriteLineAsync($"  {b.Message}");
            if (b.ExpectedHash is not null)
            {
                await console.Out.WriteLineAsync($"  expected: {b.ExpectedHash}");
            }
            if (b.ActualHash is not null)
            {
                await console.Out.WriteLineAsync($"  actual:   {b.ActualHash}");
            }
            await console.Out.WriteLineAsync($"  records verified before the break: {result.RecordCount - (b.Kind == AuditBreakKind.Truncated ? 0 : 1)}");
        }
        else
        {
            await console.Out.WriteLineAsync($"chain intact: {result.RecordCount} records in {result.Files.Count} files ({directory})");
            var where = result.TipFile is null ? "" : $" ({Path.GetFileName(result.TipFile)} line {result.TipLine})";
            await console.Out.WriteLineAsync($"tip: {result.TipHash}{where}");
        }
        if (result.SignaturesChecked > 0 || result.SignatureFailures.Count > 0)
        {
            await console.Out.WriteLineAsync($"signatures: {result.SignaturesChecked - result.SignatureFailures.Count} of {result.SignaturesChecked} valid" +
                (anchored ? " (checked against the trusted keys)" : " (integrity only: each receipt is signed by the key it names, not necessarily a key you trust; pass --pubkey or --trusted-keys to check that)"));
            foreach (var f in result.SignatureFailures)
            {
                await console.Out.WriteLineAsync($"  {Path.GetFileName(f.File)} line {f.Line} {f.ReceiptId}: {f.Reason}");
            }
        }
        foreach (var r in result.KeyRotations)
        {
            await console.Out.WriteLineAsync(r.Accepted
                ? $"key rotation at {Path.GetFileName(r.File)} line {r.Line} ({r.ReceiptId}): {r.OldKey} -> {r.NewKey} accepted; the new key is trusted from this record on"
                : $"key rotation at {Path.GetFileName(r.File)} line {r.Line} ({r.ReceiptId}) REFUSED: {r.Reason}");
        }
        if (result.IsValid)
        {
            // The closing line says what an intact chain proves, and what it cannot.
            var signed = result.SignaturesChecked == 0 ? ""
                : anchored ? "; every receipt is signed by a trusted key" : "; every receipt is signed by the key it names";
            await console.Out.WriteLineAsync(expectedTip is not null
                ? $"proves: the chain is intact from genesis to this tip{signed}, and it still holds the expected tip, so no record up to that one was removed, inserted or rewritten. Records after it could still be cut off or rewritten unseen: keep the new tip elsewhere."
                : $"proves: the chain is intact from genesis to this tip{signed}. A truncated tail, or records deleted or inserted with every later hash recomputed, is detected only against a tip or checkpoint kept elsewhere: --expect-tip, --checkpoint (docs/transparency.md).");
        }
    }

    private static string Describe(AuditBreakKind kind) => kind switch
    {
        AuditBreakKind.Edited => "edited record",
        AuditBreakKind.Deleted => "deleted record",
        AuditBreakKind.Reordered => "reordered record",
        AuditBreakKind.Unparseable => "unparseable line",
        AuditBreakKind.DuplicateKey => "duplicate key",
        AuditBreakKind.TornTail => "torn tail",
        AuditBreakKind.Truncated => "truncated log",
        _ => kind.ToString(),
    };

    private static JsonObject ToJson(AuditVerifyResult result, string directory) => new()
    {
        ["valid"] = result.IsValid,
        ["intact"] = result.IsIntact,
        ["directory"] = directory,
        ["record_count"] = result.RecordCount,
        ["files"] = result.Files.Count,
        ["tip_hash"] = result.TipHash,
        ["tip_file"] = result.TipFile is null ? null : Path.GetFileName(result.TipFile),
        ["tip_line"] = result.TipLine,
        ["break"] = result.Break is not { } b ? null : new JsonObject
        {
            ["kind"] = JsonNamingPolicy.SnakeCaseLower.ConvertName(b.Kind.ToString()),
            ["file"] = Path.GetFileName(b.File),
            ["line"] = b.Line,
            ["expected_hash"] = b.ExpectedHash,
            ["actual_hash"] = b.ActualHash,
            ["message"] = b.Message,
        },
        ["torn_tails"] = new JsonArray([.. result.TornTails.Select(t => (JsonNode)new JsonObject { ["path"] = t.Path, ["length"] = t.Length })]),
        ["repair_files"] = new JsonArray([.. result.RepairFiles.Select(r => (JsonNode)new JsonObject { ["path"] = r.Path, ["length"] = r.Length })]),
        ["other_files"] = new JsonArray([.. result.OtherFiles.Select(f => (JsonNode)JsonValue.Create(f))]),
        ["signatures"] = new JsonObject
        {
            ["checked"] = result.SignaturesChecked,
            ["failures"] = new JsonArray([.. result.SignatureFailures.Select(f => (JsonNode)new JsonObject
            {
                ["file"] = Path.GetFileName(f.File),
                ["line"] = f.Line,
                ["receipt_id"] = f.ReceiptId,
                ["reason"] = f.Reason,
            })]),
        },
    };

    private static async Task<int> VerifyBundle(CliConsole console, string directory, List<PublicKey> keys, Signet.Trust.TrustBundle? trustFile, DateTimeOffset? trustTime, bool signatures, bool allowUnsigned, bool json,
        Signet.Transparency.NoteVerifierKey? checkpointKey, Signet.Transparency.WitnessPolicy? policy)
    {
        var verdict = AuditBundle.Verify(directory, new AuditBundleVerifyOptions
        {
            TrustedKeys = keys,
            AllowUnsigned = allowUnsigned,
            VerifySignatures = signatures || trustFile is not null,
            ReceiptTrustedKeys = [],
            ReceiptTrustBundle = trustFile,
            ReceiptTrustAt = trustTime,
            CheckpointKey = checkpointKey,
            WitnessPolicy = policy,
        });
        if (json)
        {
            var obj = new JsonObject
            {
                ["valid"] = verdict.IsValid,
                ["record_count"] = verdict.RecordCount,
                ["chain_tip_record_hash"] = verdict.ChainTipRecordHash,
                ["signer"] = verdict.SignerKey?.Text,
                ["anchored"] = verdict.IsAnchored,
                ["checkpoint_size"] = verdict.Checkpoint?.Checkpoint.Size,
                ["checkpoint_witnesses"] = verdict.Checkpoint is { } cp ? new JsonArray([.. cp.Cosignatures.Select(c => (JsonNode)c.Witness)]) : null,
                ["problems"] = new JsonArray([.. verdict.Problems.Select(p => (JsonNode)p)]),
                ["warnings"] = new JsonArray([.. verdict.Warnings.Select(p => (JsonNode)p)]),
            };
            await console.Out.WriteLineAsync(obj.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            await console.Out.WriteLineAsync(verdict.IsValid
                ? $"bundle valid: {verdict.RecordCount} records, tip {verdict.ChainTipRecordHash}, manifest signed by {verdict.SignerKey?.Text ?? "nobody"}{(verdict.IsAnchored ? " (trusted)" : "")}"
                : $"bundle INVALID ({directory})");
            if (verdict.Checkpoint is { } checkpointOk)
            {
                await console.Out.WriteLineAsync($"  checkpoint: {checkpointOk.Checkpoint.Origin} at size {checkpointOk.Checkpoint.Size} covers the first {checkpointOk.Checkpoint.Size} records" +
                    (checkpointOk.Cosignatures.Count == 0 ? "" : $"; cosigned by {string.Join(", ", checkpointOk.Cosignatures.Select(c => c.Witness))}"));
            }
            foreach (var p in verdict.Problems)
            {
                await console.Out.WriteLineAsync($"  problem: {p}");
            }
            foreach (var w in verdict.Warnings)
            {
                await console.Out.WriteLineAsync($"  warning: {w}");
            }
            if (trustFile is not null && verdict.Chain is { } judged)
            {
                // The failures are among the problems above.
                await console.Out.WriteLineAsync($"  receipt signatures: {judged.SignaturesChecked - judged.SignatureFailures.Count} of {judged.SignaturesChecked} valid and trusted by the trust bundle at their signing time");
            }
            else if (signatures && verdict.Chain is { } chain)
            {
                // With --bundle, --pubkey anchors the manifest's signer; the receipts are checked against the keys they name.
                await console.Out.WriteLineAsync($"  receipt signatures: {chain.SignaturesChecked - chain.SignatureFailures.Count} of {chain.SignaturesChecked} valid (integrity only: each receipt is signed by the key it names; check the signers with 'signet verify {Path.Combine(directory, AuditBundle.RecordsFileName)} --pubkey KEY')");
            }
        }
        return verdict.IsValid ? SignetCli.Ok : SignetCli.Failed;
    }

    private static Command Show(CliConsole console)
    {
        var home = CommonOptions.Home();
        var since = new Option<string?>("--since") { Description = "Only receipts at or after: a duration back from now (30m, 24h, 7d) or an ISO 8601 time" };
        var until = new Option<string?>("--until") { Description = "Only receipts before: a duration back from now or an ISO 8601 time" };
        var tool = new Option<string?>("--tool") { Description = "Only receipts for this tool" };
        var signer = new Option<string?>("--signer") { Description = "Only receipts from this signer (name or ed25519: key)" };
        var json = CommonOptions.Json();
        var command = new Command("show", "List the tool calls in the log, oldest first: one row per call (request, response and co-signature together); --json: one line per record")
        {
            home, since, until, tool, signer, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var directory = SignetHome.AuditDirectory(CommonOptions.ResolveHome(parse.GetValue(home), console));
            var now = console.Time.GetUtcNow();
            var filter = new AuditQueryFilter
            {
                Since = parse.GetValue(since) is { } s ? ParseTime("--since", s, now) : null,
                Until = parse.GetValue(until) is { } u ? ParseTime("--until", u, now) : null,
                Tool = parse.GetValue(tool),
                Signer = parse.GetValue(signer),
            };
            var asJson = parse.GetValue(json);
            var skipped = new List<AuditSkippedLine>();
            var shown = 0;
            if (asJson)
            {
                var options = new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
                foreach (var entry in AuditQuery.Read(directory, filter, skipped.Add))
                {
                    ct.ThrowIfCancellationRequested();
                    shown++;
                    await console.Out.WriteLineAsync(RecordJson(entry).ToJsonString(options));
                }
            }
            else
            {
                var table = new CallTable(console.Out);
                foreach (var call in AuditQuery.ReadCalls(directory, filter, skipped.Add))
                {
                    ct.ThrowIfCancellationRequested();
                    shown++;
                    await table.AddAsync(call);
                }
                await table.FlushAsync();
            }
            foreach (var line in skipped)
            {
                await console.Error.WriteLineAsync($"signet: skipped {Path.GetFileName(line.File)} line {line.Line}: {line.Reason} (run 'signet log verify')");
            }
            if (!asJson && shown == 0)
            {
                await console.Error.WriteLineAsync($"signet: no matching records in {directory}");
            }
            // A line that cannot be read is a failure even when the others are listed: the listing is incomplete.
            return skipped.Count == 0 ? SignetCli.Ok : SignetCli.Failed;
        });
        return command;
    }

    /// <summary>One <c>log show --json</c> line: the record as stored plus what it is in its call (docs/audit-log.md).</summary>
    private static JsonObject RecordJson(AuditEntry entry) => new()
    {
        ["file"] = Path.GetFileName(entry.File),
        ["line"] = entry.Line,
        ["receipt"] = entry.Receipt.DeepClone(),
        ["prev_hash"] = entry.PrevHash,
        ["record_hash"] = entry.RecordHash,
        ["version"] = entry.Version,
        ["kind"] = entry.Kind switch
        {
            AuditRecordKind.Request => "request",
            AuditRecordKind.Response => "response",
            AuditRecordKind.CoSignature => "cosignature",
            _ => "other",
        },
        ["receipt_id"] = entry.ReceiptId,
        ["call_receipt_id"] = entry.CallReceiptId,
        ["request_ts"] = entry.RequestTimestamp,
        ["tool"] = entry.Tool,
        ["signer"] = entry.SignerName,
        ["target"] = entry.Target,
        ["outcome"] = entry.Outcome,
    };

    /// <summary>
    /// The <c>log show</c> table: a header and aligned columns, one row per call. Rows are written a block at a time so
    /// a long log streams; a column widens when a later block needs it.
    /// </summary>
    private sealed class CallTable(TextWriter output)
    {
        private const int BlockSize = 1000;
        private static readonly string[] Header = ["TIME (REQUEST)", "TOOL", "SIGNER", "TARGET", "OUTCOME", "RECEIPT"];

        private readonly List<string[]> _rows = [];
        private readonly int[] _widths = [.. Header.Select(h => h.Length)];
        private bool _headerWritten;

        public async Task AddAsync(AuditCall call)
        {
            _rows.Add([call.RequestTimestamp ?? "-", call.Tool ?? "-", call.SignerName ?? "-", call.Target ?? "-", Outcome(call), call.ReceiptId ?? "-"]);
            if (_rows.Count >= BlockSize)
            {
                await FlushAsync();
            }
        }

        public async Task FlushAsync()
        {
            if (_rows.Count == 0)
            {
                return;
            }
            foreach (var row in _rows)
            {
                for (var i = 0; i < row.Length; i++)
                {
                    _widths[i] = Math.Max(_widths[i], row[i].Length);
                }
            }
            if (!_headerWritten)
            {
                await output.WriteLineAsync(Format(Header));
                _headerWritten = true;
            }
            foreach (var row in _rows)
            {
                await output.WriteLineAsync(Format(row));
            }
            _rows.Clear();
        }

        private string Format(string[] row) =>
            string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(_widths[i]))).TrimEnd();

        /// <summary>
        /// The signed outcome (executed, failed, or what a co-signing server stated); "answered" for a response receipt
        /// without one; "no response" for a request whose response receipt is not in the log.
        /// </summary>
        private static string Outcome(AuditCall call)
        {
            if (call.Request is null && call.Response is null && call.CoSignature is null)
            {
                return "-";
            }
            var outcome = call.Outcome ?? (call.Response is not null || call.CoSignature is not null ? "answered" : "no response");
            if (call.CoSignature is not null)
            {
                outcome += ", co-signed";
            }
            if (call.Request is null)
            {
                outcome += ", no request receipt";
            }
            return outcome;
        }
    }

    private static Command Export(CliConsole console)
    {
        var home = CommonOptions.Home();
        var output = new Option<string>("--out") { Description = "The bundle directory to create", Required = true, HelpName = "DIR" };
        var keys = new KeyOptions();
        var command = new Command("export", "Write an evidence bundle: the records and a manifest (count, first prev_hash, tip) signed with --key") { home, output };
        keys.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var homeDir = CommonOptions.ResolveHome(parse.GetValue(home), console);
            using var loaded = keys.Load(parse, homeDir, console);
            var signingKey = loaded.Signer;
            var export = AuditBundle.Export(SignetHome.AuditDirectory(homeDir), parse.GetValue(output)!, signingKey,
                new AuditBundleExportOptions { TimeProvider = console.Time });
            await console.Out.WriteLineAsync($"bundle written to {export.Directory}: {export.RecordCount} records");
            await console.Out.WriteLineAsync($"chain start prev_hash: {export.ChainStartPrevHash}");
            await console.Out.WriteLineAsync($"chain tip record_hash: {export.ChainTipRecordHash}");
            await console.Out.WriteLineAsync($"manifest signed by:    {export.SignerKey}");
            await console.Out.WriteLineAsync(export.CheckpointSize is { } size
                ? $"checkpoint:            size {size} (the log's latest, with its cosignatures)"
                : "checkpoint:            none (sign one with 'signet log checkpoint' before exporting, so the bundle can be checked against witnesses)");
            await console.Out.WriteLineAsync($"check it offline with: signet log verify --bundle {export.Directory} --pubkey {export.SignerKey}");
            return SignetCli.Ok;
        });
        return command;
    }

    private static DateTimeOffset ParseTime(string option, string value, DateTimeOffset now)
    {
        var v = value.Trim();
        if (v.Length >= 2 && double.TryParse(v[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount >= 0)
        {
            var span = char.ToLowerInvariant(v[^1]) switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                'w' => TimeSpan.FromDays(7 * amount),
                _ => (TimeSpan?)null,
            };
            if (span is { } s)
            {
                return now - s;
            }
        }
        if (DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }
        throw new CliUsageException($"{option} {value}: give a duration (30m, 24h, 7d) or an ISO 8601 time such as 2026-11-26T12:00:00Z");
    }
}
