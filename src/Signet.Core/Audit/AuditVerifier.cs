using System.Text.Json.Nodes;
using Signet.Canonicalization;
using Signet.Trust;

namespace Signet.Audit;

/// <summary>Walks an audit log's chain across all day files in bounded memory.</summary>
/// <remarks>
/// The day files (<c>YYYY-MM-DD.jsonl</c>) are walked in ascending ordinal name order, blank lines skipped. Any other
/// <c>*.jsonl</c> is listed in <see cref="AuditVerifyResult.OtherFiles"/> and not walked. Records are read and hashed in blocks (optionally in parallel); links are checked in order. Never throws
/// on bad evidence.
/// </remarks>
public static class AuditVerifier
{
    /// <summary>Verifies the log in <paramref name="auditDirectory"/>.</summary>
    /// <exception cref="SignetException">The directory cannot be read.</exception>
    public static AuditVerifyResult Verify(string auditDirectory, AuditVerifyOptions? options = null)
    {
        options ??= new AuditVerifyOptions();
        if (options.TrustBundle is not null && !options.VerifySignatures)
        {
            options = options with { VerifySignatures = true };
        }
        var directory = Path.GetFullPath(auditDirectory);
        if (!Directory.Exists(directory))
        {
            throw new SignetException($"no audit log at {directory} (the directory does not exist)");
        }
        try
        {
            return Walk(directory, AuditRecordFormat.ChainFiles(directory), options) with
            {
                OtherFiles = AuditRecordFormat.OtherJsonlFiles(directory),
                RepairFiles = [.. Directory.GetFiles(directory, "*" + AuditRecordFormat.RepairSuffix)
                    .Order(StringComparer.Ordinal)
                    .Select(p => new AuditRepairFile(p, new FileInfo(p).Length))],
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SignetException($"cannot read the audit log in {directory}: {e.Message}", e);
        }
    }

    /// <summary>Verifies one records file (a bundle's records.jsonl) whose chain starts at <paramref name="startPrevHash"/>.</summary>
    internal static AuditVerifyResult VerifyFile(string file, string startPrevHash, AuditVerifyOptions options) =>
        Walk(Path.GetDirectoryName(Path.GetFullPath(file))!, [Path.GetFullPath(file)], options, startPrevHash, listTorn: false);

    private static AuditVerifyResult Walk(string directory, string[] files, AuditVerifyOptions options, string start = SignetHash.Genesis, bool listTorn = true)
    {
        var expected = start;
        long count = 0, signaturesChecked = 0;
        string? tipFile = null;
        long tipLine = 0;
        var tip = start;
        var sawExpectedTip = options.ExpectedTip is null || string.Equals(options.ExpectedTip, start, StringComparison.Ordinal);
        var failures = new List<AuditSignatureFailure>();
        // Trust is judged in chain order, after the signatures (checked per block, in parallel when asked).
        var trust = options.TrustBundle is { } bundle ? new LogTrust(bundle, options.TrustAt) : null;
        AuditBreak? found = null;
        var parallel = options.Threads > 1;
        var blockSize = parallel ? Math.Max(1, options.BlockSize) : 1;
        var block = new List<Item>(blockSize);

        for (var f = 0; f < files.Length && found is null; f++)
        {
            var file = files[f];
            using var reader = new AuditLineReader(file);
            var more = true;
            while (more && found is null)
            {
                block.Clear();
                while (block.Count < blockSize && (more = reader.TryRead(out var line)))
                {
                    if (line.Bytes.AsSpan().IndexOfAnyExcept(" \t\r"u8) < 0)
                    {
                        continue; // blank lines are skipped, as the reference does
                    }
                    block.Add(new Item(file, line));
                }
                if (block.Count == 0)
                {
                    break;
                }
                Hash(block, options);
                foreach (var item in block)
                {
                    count++;
                    var isLastLine = !item.Line.Terminated;
                    if (isLastLine && f == files.Length - 1)
                    {
                        found = new AuditBreak(AuditBreakKind.TornTail, file, item.Line.Number, null, null,
                            "the last line has no newline: a write was cut short. Opening the log for writing moves it aside and continues the chain.");
                        break;
                    }
                    if (!item.IsRecord)
                    {
                        var kind = item.DuplicateKey ? AuditBreakKind.DuplicateKey : AuditBreakKind.Unparseable;
                        found = new AuditBreak(kind, file, item.Line.Number, expected, null, $"line is not a valid record: {item.Error}");
                        break;
                    }
                    if (!string.Equals(item.Recomputed, item.RecordHash, StringComparison.Ordinal))
                    {
                        found = new AuditBreak(AuditBreakKind.Edited, file, item.Line.Number, item.Recomputed, item.RecordHash,
                            "the record was changed after it was written: its content no longer hashes to its record_hash");
                        break;
                    }
                    if (!string.Equals(item.PrevHash, expected, StringComparison.Ordinal))
                    {
                        found = ClassifyLinkBreak(files, item, expected);
                        break;
                    }
                    if (options.VerifySignatures)
                    {
                        // Checked with the block's hashing (in parallel when asked); reported here, in chain order.
                        signaturesChecked++;
                        if (item.SignatureFailure is { } reason)
                        {
                            failures.Add(new AuditSignatureFailure(file, item.Line.Number, ReceiptFields.Id(item.Receipt!), reason));
                        }
                        else if (trust?.Check(item.Receipt!, file, item.Line.Number) is { } untrusted)
                        {
                            failures.Add(new AuditSignatureFailure(file, item.Line.Number, ReceiptFields.Id(item.Receipt!), untrusted));
                        }
                    }
                    expected = item.RecordHash;
                    tip = expected;
                    tipFile = file;
                    tipLine = item.Line.Number;
                    if (!sawExpectedTip && string.Equals(options.ExpectedTip, tip, StringComparison.Ordinal))
                    {
                        sawExpectedTip = true;
                    }
                }
                if (found is { Kind: AuditBreakKind.Unparseable or AuditBreakKind.DuplicateKey or AuditBreakKind.Edited } &&
                    f == files.Length - 1 && found.Line == block[^1].Line.Number && !HasMoreLines(reader))
                {
                    found = found with
                    {
                        Message = found.Message + ". It is the log's last line, which a crash cannot leave complete: writers refuse to " +
                            "append after it; 'signet log repair' moves it aside into a .corrupt file and records that in the log",
                    };
                }
            }
        }

        if (found is null && !sawExpectedTip)
        {
            found = new AuditBreak(AuditBreakKind.Truncated, tipFile ?? directory, tipLine, options.ExpectedTip, tip,
                "the log does not contain the expected tip record: records at its end were removed (or the log was replaced)");
        }

        return new AuditVerifyResult
        {
            Break = found,
            RecordCount = count,
            TipHash = tip,
            TipFile = tipFile,
            TipLine = tipLine,
            Files = files,
            TornTails = listTorn ? TornFiles(directory) : [],
            SignaturesChecked = signaturesChecked,
            SignatureFailures = failures,
            KeyRotations = trust?.Rotations ?? [],
        };
    }

    private static void Hash(List<Item> block, AuditVerifyOptions options)
    {
        var slices = options.Threads;
        if (block.Count < 16 || slices <= 1)
        {
            foreach (var item in block)
            {
                item.Compute(options);
            }
            return;
        }
        // One contiguous slice per core and a single join per block: finer partitions spend more CPU waiting than hashing.
        var size = (block.Count + slices - 1) / slices;
        var tasks = new Task[slices - 1];
        for (var s = 1; s < slices; s++)
        {
            var from = s * size;
            tasks[s - 1] = Task.Factory.StartNew(() => ComputeRange(block, from, Math.Min(block.Count, from + size), options),
                CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default);
        }
        ComputeRange(block, 0, Math.Min(block.Count, size), options);
        Task.WaitAll(tasks);
    }

    private static void ComputeRange(List<Item> block, int from, int to, AuditVerifyOptions options)
    {
        for (var i = from; i < to; i++)
        {
            block[i].Compute(options);
        }
    }

    /// <summary>
    /// A record links to something other than its predecessor. If the hash it links to is somewhere in the log the
    /// records were moved (or duplicated); if it is nowhere, the record it linked to is gone. One extra streaming pass.
    /// </summary>
    private static AuditBreak ClassifyLinkBreak(string[] files, Item item, string expected)
    {
        var linksTo = item.PrevHash;
        var present = linksTo != SignetHash.Genesis && ContainsRecordHash(files, linksTo, item);
        return present
            ? new AuditBreak(AuditBreakKind.Reordered, item.File, item.Line.Number, expected, linksTo,
                "the record links to a record that is elsewhere in the log: records were reordered or duplicated")
            : new AuditBreak(AuditBreakKind.Deleted, item.File, item.Line.Number, expected, linksTo,
                expected == SignetHash.Genesis
                    ? "the first record does not start the chain: earlier records (or day files) were deleted"
                    : "the record links to a record that is not in the log: a record was deleted (or the one before it was rewritten with a recomputed hash)");
    }

    private static bool ContainsRecordHash(string[] files, string hash, Item except)
    {
        var needle = System.Text.Encoding.UTF8.GetBytes("\"" + hash + "\"");
        foreach (var file in files)
        {
            using var reader = new AuditLineReader(file);
            while (reader.TryRead(out var line))
            {
                if (file == except.File && line.Number == except.Line.Number)
                {
                    continue;
                }
                if (line.Bytes.AsSpan().IndexOf(needle) < 0)
                {
                    continue;
                }
                if (AuditRecordFormat.TryParse(line.Bytes, out _, out _) is { } record && record.RecordHash == hash)
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>True when a complete non-blank line follows (what a writer would continue from instead).</summary>
    private static bool HasMoreLines(AuditLineReader reader)
    {
        while (reader.TryRead(out var line))
        {
            if (line.Terminated && line.Bytes.AsSpan().IndexOfAnyExcept(" \t\r"u8) >= 0)
            {
                return true;
            }
        }
        return false;
    }

    private static List<AuditTornTailFile> TornFiles(string directory) =>
        [.. Directory.GetFiles(directory, "*" + AuditRecordFormat.TornSuffix)
            .Order(StringComparer.Ordinal)
            .Select(p => new AuditTornTailFile(p, new FileInfo(p).Length))];

    private sealed class Item(string file, AuditLine line)
    {
        public string File { get; } = file;

        public AuditLine Line { get; } = line;

        /// <summary>True when the line is a record whose receipt could be canonicalized.</summary>
        public bool IsRecord { get; private set; }

        public string PrevHash { get; private set; } = "";

        public string RecordHash { get; private set; } = "";

        /// <summary>The parsed receipt; only when signatures are checked (or the byte path handed over).</summary>
        public JsonObject? Receipt { get; private set; }

        public string? Recomputed { get; private set; }

        public string? Error { get; private set; }

        public bool DuplicateKey { get; private set; }

        /// <summary>Why the receipt's signature does not verify (only when signatures are checked), or null.</summary>
        public string? SignatureFailure { get; private set; }

        public void Compute(AuditVerifyOptions options)
        {
            Hash(options.VerifySignatures);
            if (options.VerifySignatures && IsRecord)
            {
                SignatureFailure = AuditSignatures.Check(Receipt!, options.TrustedKeys);
            }
        }

        private void Hash(bool needReceipt)
        {
            // Ordinary records are hashed from their bytes; a tree is built only to check a signature or to explain a problem.
            if (!needReceipt && AuditRecordFormat.TryHashRecord(Line.Bytes, out var prev, out var hash, out var recomputed))
            {
                (IsRecord, PrevHash, RecordHash, Recomputed) = (true, prev, hash, recomputed);
                return;
            }
            var record = AuditRecordFormat.TryParse(Line.Bytes, out var error, out var duplicate);
            Error = error;
            DuplicateKey = duplicate;
            if (record is null)
            {
                return;
            }
            try
            {
                Recomputed = AuditRecordFormat.RecordHash(record.PrevHash, record.Receipt);
                (IsRecord, PrevHash, RecordHash, Receipt) = (true, record.PrevHash, record.RecordHash, record.Receipt);
            }
            catch (CanonicalizationException e)
            {
                Error = $"the receipt cannot be canonicalized: {e.Message}";
            }
        }
    }
}

/// <summary>Reads the fields the log filters and reports on, for every receipt version (FORMAT.md §4).</summary>
internal static class ReceiptFields
{
    public static string? Id(JsonObject receipt) => Str(receipt["id"]);

    public static int? Version(JsonObject receipt) =>
        receipt["v"] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number && int.TryParse(v.ToJsonString(), out var n) ? n : null;

    /// <summary>v1/v4 <c>ts</c>, v2 <c>ts_request</c>, v3 <c>ts_response</c>; <c>ts</c> when there is no <c>v</c>.</summary>
    public static string? Timestamp(JsonObject receipt) => Version(receipt) switch
    {
        2 => Str(receipt["ts_request"]),
        3 => Str(receipt["ts_response"]),
        _ => Str(receipt["ts"]),
    };

    /// <summary>The tool: <c>action.tool</c>, or the embedded agent receipt's for v3.</summary>
    public static string? Tool(JsonObject receipt) =>
        Str(receipt["action"]?["tool"]) ?? Str(receipt["agent_receipt"]?["action"]?["tool"]);

    /// <summary>Signer names and keys (the agent's and, for v3, the server's).</summary>
    public static IEnumerable<string> Signers(JsonObject receipt)
    {
        foreach (var node in new[] { receipt["signer"], receipt["agent_receipt"]?["signer"], receipt["server"] })
        {
            if (Str(node?["name"]) is { } name)
            {
                yield return name;
            }
            if (Str(node?["pubkey"]) is { } key)
            {
                yield return key;
            }
        }
    }

    public static string? SignerName(JsonObject receipt) =>
        Str(receipt["signer"]?["name"]) ?? Str(receipt["agent_receipt"]?["signer"]?["name"]);

    private static string? Str(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : null;
}
