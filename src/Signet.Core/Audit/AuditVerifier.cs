using System.Text.Json.Nodes;
using Signet.Canonicalization;
using Signet.Keys;

namespace Signet.Audit;

/// <summary>What kind of damage a chain break shows.</summary>
public enum AuditBreakKind
{
    /// <summary>A record's content (receipt or prev_hash) no longer matches its record_hash.</summary>
    Edited,

    /// <summary>A record links to a record that is not in the log: one was deleted (or the one before it was rewritten with a recomputed hash).</summary>
    Deleted,

    /// <summary>A record links to a record that is present but elsewhere in the log: records were moved or duplicated.</summary>
    Reordered,

    /// <summary>A line is not JSON, or not a record.</summary>
    Unparseable,

    /// <summary>A line repeats a key, which lets two readers see two different records.</summary>
    DuplicateKey,

    /// <summary>The last line of the log has no newline: a write was cut short and has not been recovered yet.</summary>
    TornTail,

    /// <summary>The log does not contain the tip the caller expected: records at the end were removed.</summary>
    Truncated,
}

/// <summary>The first place where the chain does not hold.</summary>
/// <param name="Kind">What kind of damage it is.</param>
/// <param name="File">The day file (full path).</param>
/// <param name="Line">One-based line number in that file.</param>
/// <param name="ExpectedHash">The hash the chain required here (the previous record_hash, or the recomputed hash).</param>
/// <param name="ActualHash">The hash the line holds.</param>
/// <param name="Message">A sentence for people.</param>
public sealed record AuditBreak(AuditBreakKind Kind, string File, long Line, string? ExpectedHash, string? ActualHash, string Message);

/// <summary>A record whose receipt signature did not verify.</summary>
/// <param name="File">The day file.</param>
/// <param name="Line">One-based line number.</param>
/// <param name="ReceiptId">The receipt's <c>id</c>, if it has one.</param>
/// <param name="Reason">Why it failed.</param>
public sealed record AuditSignatureFailure(string File, long Line, string? ReceiptId, string Reason);

/// <summary>A moved-aside torn tail kept in the audit directory for forensics.</summary>
/// <param name="Path">The <c>.torn</c> file.</param>
/// <param name="Length">Its size in bytes.</param>
public sealed record AuditTornTailFile(string Path, long Length);

/// <summary>A corrupt line that <c>signet log repair</c> moved aside, kept as a <c>.corrupt</c> file.</summary>
/// <param name="Path">The <c>.corrupt</c> file.</param>
/// <param name="Length">Its size in bytes.</param>
public sealed record AuditRepairFile(string Path, long Length);

/// <summary>Options for <see cref="AuditVerifier.Verify"/>.</summary>
public sealed record AuditVerifyOptions
{
    /// <summary>Also verify every receipt's signature (forensic: expired receipts accepted).</summary>
    public bool VerifySignatures { get; init; }

    /// <summary>With signatures on: keys a receipt's signer (or a v3 server) must be one of. Empty: self-asserted keys.</summary>
    public IReadOnlyList<PublicKey> TrustedKeys { get; init; } = [];

    /// <summary>A record_hash the log must still contain (a tip seen earlier, e.g. from an exported manifest); detects truncation.</summary>
    public string? ExpectedTip { get; init; }

    /// <summary>
    /// Records read and hashed per block when hashing in parallel (memory is bounded by one block). Small blocks keep
    /// the parsed records short-lived, which matters more to the garbage collector than the join per block.
    /// </summary>
    public int BlockSize { get; init; } = 256;

    /// <summary>
    /// Threads that hash a block and, with <see cref="VerifySignatures"/>, check its signatures (at most 8). Null, the
    /// default: one per core when signatures are checked, else one. Hashing alone gains only on idle cores (on a busy
    /// 2-core machine the join per block cost more CPU than it saved); a signature check costs about twenty times the
    /// hashing and gains 1.4–1.6× on two cores (docs/benchmarks.md). Breaks and signature failures are reported in
    /// chain order whatever the setting.
    /// </summary>
    public int? MaxDegreeOfParallelism { get; init; }

    /// <summary>The threads a verification uses: <see cref="MaxDegreeOfParallelism"/>, or its default, within 1–8 and the cores.</summary>
    internal int Threads =>
        Math.Clamp(Math.Min(MaxDegreeOfParallelism ?? (VerifySignatures ? Environment.ProcessorCount : 1), Environment.ProcessorCount), 1, 8);
}

/// <summary>The outcome of walking the chain.</summary>
public sealed record AuditVerifyResult
{
    /// <summary>True when the whole chain links and every record hash recomputes (and, if asked, every signature verifies).</summary>
    public bool IsValid => Break is null && SignatureFailures.Count == 0;

    /// <summary>True when the chain itself holds (signatures aside).</summary>
    public bool IsIntact => Break is null;

    /// <summary>The first break, or null.</summary>
    public AuditBreak? Break { get; init; }

    /// <summary>Records read, up to and including the break.</summary>
    public long RecordCount { get; init; }

    /// <summary>The record_hash of the last record that verified (genesis for an empty log).</summary>
    public string TipHash { get; init; } = SignetHash.Genesis;

    /// <summary>The file of the tip record, or null for an empty log.</summary>
    public string? TipFile { get; init; }

    /// <summary>The line of the tip record.</summary>
    public long TipLine { get; init; }

    /// <summary>The day files (<c>YYYY-MM-DD.jsonl</c>) walked, in order.</summary>
    public IReadOnlyList<string> Files { get; init; } = [];

    /// <summary>
    /// Other <c>*.jsonl</c> files in the audit directory: not day files, so not part of the chain and not walked (the
    /// reference's verifier would walk them; no writer of this implementation makes them). Reported, not a break.
    /// </summary>
    public IReadOnlyList<string> OtherFiles { get; init; } = [];

    /// <summary>Corrupt lines that <c>signet log repair</c> moved aside (kept as <c>.corrupt</c> files).</summary>
    public IReadOnlyList<AuditRepairFile> RepairFiles { get; init; } = [];

    /// <summary>Torn tails that a writer moved aside earlier (kept as <c>.torn</c> files).</summary>
    public IReadOnlyList<AuditTornTailFile> TornTails { get; init; } = [];

    /// <summary>Signatures checked (when asked).</summary>
    public long SignaturesChecked { get; init; }

    /// <summary>Records whose signature did not verify (when asked).</summary>
    public IReadOnlyList<AuditSignatureFailure> SignatureFailures { get; init; } = [];
}

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
