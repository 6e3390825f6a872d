using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Signet.Canonicalization;
using Signet.Keys;

namespace Signet.Audit;

/// <summary>
/// Evidence bundles: <c>records.jsonl</c> (the records, verbatim), <c>manifest.json</c> (the reference's fields plus
/// an Ed25519 <c>signature</c> over the JCS of the other fields) and <c>hash-summary.txt</c>.
/// </summary>
public static class AuditBundle
{
    /// <summary>The records file.</summary>
    public const string RecordsFileName = "records.jsonl";

    /// <summary>The manifest file.</summary>
    public const string ManifestFileName = "manifest.json";

    /// <summary>The human-readable summary.</summary>
    public const string SummaryFileName = "hash-summary.txt";

    /// <summary>The latest signed checkpoint of the log (with its cosignatures), when it covers records in the bundle.</summary>
    public const string CheckpointFileName = "checkpoint";

    private static readonly string[] BundleFiles = [RecordsFileName, ManifestFileName, SummaryFileName, CheckpointFileName, "trust-bundle.json"];

    /// <summary>
    /// Keys and hashes written as <c>signet key show</c> prints them (<c>+</c>, not <c>\u002B</c>). The signature covers
    /// the JCS of the parsed manifest, never its bytes, so the escaping cannot change what it verifies; any JSON reader
    /// (the reference's serde_json included) reads both forms.
    /// </summary>
    private static readonly JsonSerializerOptions ManifestJson = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Copies every whole record of the log (in chain order) into a new bundle and signs its manifest with
    /// <paramref name="key"/>. Refuses a log whose chain is broken and an output directory holding other files.
    /// </summary>
    /// <exception cref="SignetException">The log is empty or broken, or the bundle cannot be written.</exception>
    public static AuditBundleExport Export(string auditDirectory, string outputDirectory, SigningKey key, AuditBundleExportOptions? options = null) =>
        Export(auditDirectory, outputDirectory, (ISigner)key, options);

    /// <summary>
    /// Copies every whole record of the log (in chain order) into a new bundle and signs its manifest with
    /// <paramref name="key"/>, wherever it lives (in memory, a PKCS#11 token, …).
    /// </summary>
    /// <exception cref="SignetException">The log is empty or broken, or the bundle cannot be written.</exception>
    public static AuditBundleExport Export(string auditDirectory, string outputDirectory, ISigner key, AuditBundleExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        options ??= new AuditBundleExportOptions();
        var output = Path.GetFullPath(outputDirectory);
        if (Directory.Exists(output))
        {
            var foreign = Directory.GetFiles(output).Select(Path.GetFileName).FirstOrDefault(n => !BundleFiles.Contains(n) && !n!.StartsWith('.'));
            if (foreign is not null)
            {
                throw new SignetException($"{output} holds {foreign}, which is not part of a bundle; export into a new or empty directory");
            }
        }
        else if (File.Exists(output))
        {
            throw new SignetException($"{output} is a file; give a directory for the bundle");
        }

        try
        {
            Directory.CreateDirectory(output);
            var recordsPath = Path.Combine(output, RecordsFileName);
            var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long count = 0;
            string? start = null, tip = null, earliest = null, latest = null;
            var expected = SignetHash.Genesis;
            var leaves = new List<byte[]>();
            using (var records = new FileStream(recordsPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var files = AuditRecordFormat.ChainFiles(Path.GetFullPath(auditDirectory));
                for (var f = 0; f < files.Length; f++)
                {
                    using var reader = new AuditLineReader(files[f]);
                    while (reader.TryRead(out var line))
                    {
                        if (line.Bytes.AsSpan().IndexOfAnyExcept(" \t\r"u8) < 0)
                        {
                            continue;
                        }
                        if (!line.Terminated && f == files.Length - 1)
                        {
                            break; // a write in progress or a torn tail: not a whole record
                        }
                        var record = AuditRecordFormat.TryParse(line.Bytes, out var error, out _)
                            ?? throw new SignetException($"{files[f]} line {line.Number} is not a record ({error}); run 'signet log verify' and export an intact log");
                        if (record.PrevHash != expected || AuditRecordFormat.RecordHash(record.PrevHash, record.Receipt) != record.RecordHash)
                        {
                            throw new SignetException($"the chain breaks at {files[f]} line {line.Number}; run 'signet log verify' for the details. A broken log cannot be exported as evidence.");
                        }
                        expected = record.RecordHash;
                        start ??= record.PrevHash;
                        tip = record.RecordHash;
                        count++;
                        if (ReceiptFields.Timestamp(record.Receipt) is { } ts)
                        {
                            earliest = earliest is null || string.CompareOrdinal(ts, earliest) < 0 ? ts : earliest;
                            latest = latest is null || string.CompareOrdinal(ts, latest) > 0 ? ts : latest;
                        }
                        records.Write(line.Bytes);
                        records.WriteByte((byte)'\n');
                        leaves.Add(Signet.Transparency.MerkleTree.LeafHash(line.Bytes));
                        sha.AppendData(line.Bytes);
                        sha.AppendData("\n"u8);
                    }
                }
                records.Flush(flushToDisk: true);
            }
            if (count == 0)
            {
                File.Delete(recordsPath);
                throw new SignetException($"the audit log in {auditDirectory} has no records; nothing to export");
            }
            var recordsSha = Convert.ToHexStringLower(sha.GetHashAndReset());

            var manifest = new JsonObject
            {
                ["format_version"] = 1,
                ["producer"] = "signet-dotnet " + typeof(AuditBundle).Assembly.GetName().Version?.ToString(3),
                ["generated_at"] = options.TimeProvider.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                ["host"] = options.Host ?? Environment.MachineName,
                ["record_count"] = count,
                ["chain_start_prev_hash"] = start,
                ["chain_tip_record_hash"] = tip,
                ["earliest_ts"] = earliest,
                ["latest_ts"] = latest,
                ["records_sha256"] = recordsSha,
                ["has_trust_bundle"] = false,
            };
            var checkpoint = LatestCheckpointCovering(auditDirectory, leaves);
            if (checkpoint is not null)
            {
                manifest["checkpoint_size"] = checkpoint.Checkpoint.Size;
                WriteDurable(Path.Combine(output, CheckpointFileName), checkpoint.ToString());
            }
            var signature = key.Sign(JsonCanonicalizer.Canonicalize(manifest));
            manifest["signature"] = new JsonObject
            {
                ["alg"] = "ed25519",
                ["pubkey"] = key.PublicKey.Text,
                ["sig"] = "ed25519:" + Convert.ToBase64String(signature),
                ["signed"] = "JCS of manifest.json without the signature member",
            };
            WriteDurable(Path.Combine(output, ManifestFileName), manifest.ToJsonString(ManifestJson) + "\n");
            WriteDurable(Path.Combine(output, SummaryFileName),
                $"signet-evidence-bundle-summary\nrecords: {count}\nrecords.jsonl sha256: {recordsSha}\nchain start prev_hash: {start}\n" +
                $"chain tip record_hash: {tip}\nearliest timestamp: {earliest ?? "-"}\nlatest timestamp: {latest ?? "-"}\nmanifest signed by: {key.PublicKey}\n" +
                (checkpoint is null ? "checkpoint: none (sign one with 'signet log checkpoint' before exporting)\n"
                    : $"checkpoint: {checkpoint.Checkpoint.Origin} at size {checkpoint.Checkpoint.Size}, {checkpoint.Note.Signatures.Count} signature(s)\n"));
            NativeFile.FsyncDirectory(output);
            return new AuditBundleExport(output, count, start!, tip!, recordsSha, key.PublicKey) { CheckpointSize = checkpoint?.Checkpoint.Size };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SignetException($"cannot write the bundle to {output}: {e.Message}", e);
        }
    }

    /// <summary>Checks a bundle offline: records digest, chain, count, tip, and the manifest signature.</summary>
    public static AuditBundleVerification Verify(string bundleDirectory, AuditBundleVerifyOptions? options = null)
    {
        options ??= new AuditBundleVerifyOptions();
        var dir = Path.GetFullPath(bundleDirectory);
        var problems = new List<string>();
        var warnings = new List<string>();
        var manifestPath = Path.Combine(dir, ManifestFileName);
        var recordsPath = Path.Combine(dir, RecordsFileName);
        if (!File.Exists(manifestPath) || !File.Exists(recordsPath))
        {
            return new AuditBundleVerification { Problems = [$"{dir} is not a bundle: {ManifestFileName} and {RecordsFileName} are required"] };
        }

        JsonObject manifest;
        try
        {
            manifest = StrictJson.Parse(File.ReadAllBytes(manifestPath)) as JsonObject
                ?? throw new JsonParseException("the manifest is not a JSON object", 1, 1, "$", 0, JsonParseErrorKind.WrongShape);
        }
        catch (JsonParseException e)
        {
            return new AuditBundleVerification { Problems = [$"{manifestPath}: {e.Message}"] };
        }

        if (Number(manifest, "format_version") != 1)
        {
            problems.Add($"{ManifestFileName}: format_version must be 1");
        }
        var count = Number(manifest, "record_count");
        var start = Text(manifest, "chain_start_prev_hash");
        var tip = Text(manifest, "chain_tip_record_hash");
        var statedSha = Text(manifest, "records_sha256");
        if (count is null || start is null || tip is null || statedSha is null)
        {
            problems.Add($"{ManifestFileName}: record_count, chain_start_prev_hash, chain_tip_record_hash and records_sha256 are required");
            return new AuditBundleVerification { Problems = problems };
        }

        using (var stream = File.OpenRead(recordsPath))
        {
            var actualSha = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (!string.Equals(actualSha, statedSha, StringComparison.Ordinal))
            {
                problems.Add($"{RecordsFileName} was changed: its sha256 is {actualSha}, the manifest states {statedSha}");
            }
        }

        var chain = AuditVerifier.VerifyFile(recordsPath, start, new AuditVerifyOptions
        {
            VerifySignatures = options.VerifySignatures || options.ReceiptTrustBundle is not null,
            TrustedKeys = options.ReceiptTrustedKeys,
            TrustBundle = options.ReceiptTrustBundle,
            TrustAt = options.ReceiptTrustAt,
        });
        if (chain.Break is { } b)
        {
            problems.Add($"chain breaks at {RecordsFileName} line {b.Line} ({b.Kind}): {b.Message}; expected {b.ExpectedHash}, found {b.ActualHash}");
        }
        // The chain walk stops at a break, so count the records the file holds on its own.
        var held = CountRecordLines(recordsPath);
        if (held != count)
        {
            problems.Add($"{RecordsFileName} holds {held} records, the manifest states {count}");
        }
        if (chain.Break is null && !string.Equals(chain.TipHash, tip, StringComparison.Ordinal))
        {
            problems.Add($"the chain tip is {chain.TipHash}, the manifest states {tip}");
        }
        foreach (var failure in chain.SignatureFailures)
        {
            problems.Add($"receipt at {RecordsFileName} line {failure.Line} ({failure.ReceiptId}): {failure.Reason}");
        }

        PublicKey? signer = null;
        var anchored = false;
        var checkpointSize = Number(manifest, "checkpoint_size");
        if (manifest["signature"] is not JsonObject signature)
        {
            if (options.AllowUnsigned)
            {
                warnings.Add("the manifest is not signed (a reference bundle): whoever can edit the records can also rewrite it");
            }
            else
            {
                problems.Add("the manifest is not signed; pass --allow-unsigned to check a reference bundle's integrity only");
            }
        }
        else
        {
            var unsigned = (JsonObject)manifest.DeepClone();
            unsigned.Remove("signature");
            if (!PublicKey.TryParse(Text(signature, "pubkey"), out signer, out var keyError))
            {
                problems.Add($"{ManifestFileName} signature.pubkey: {keyError}");
            }
            else if (!TryDecodeSignature(Text(signature, "sig"), out var sig) || !signer.Verify(JsonCanonicalizer.Canonicalize(unsigned), sig))
            {
                problems.Add($"the manifest signature does not verify with {signer}: the manifest was changed after it was signed");
            }
            else if (options.TrustedKeys.Count > 0)
            {
                anchored = options.TrustedKeys.Contains(signer);
                if (!anchored)
                {
                    problems.Add($"the manifest is signed by {signer}, which is not a trusted key");
                }
            }
            else
            {
                warnings.Add($"the manifest is signed by {signer}, checked against the key it names (pass a trusted key to anchor it)");
            }
        }

        Signet.Transparency.CheckpointVerification? checkpointVerified = null;
        var checkpointPath = Path.Combine(dir, CheckpointFileName);
        if (checkpointSize is not null || File.Exists(checkpointPath))
        {
            checkpointVerified = VerifyCheckpoint(checkpointPath, recordsPath, checkpointSize, signer, options, problems, warnings);
        }

        return new AuditBundleVerification
        {
            Checkpoint = checkpointVerified,
            Problems = problems,
            Warnings = warnings,
            RecordCount = held,
            ChainTipRecordHash = tip,
            SignerKey = signer,
            IsAnchored = anchored,
            Chain = chain,
        };
    }

    /// <summary>
    /// The log's latest checkpoint when the exported records extend it (its first Size records hash to its root), null
    /// when there is none or it covers more records than were exported.
    /// </summary>
    /// <exception cref="SignetException">The log does not extend its own checkpoint: exporting it as evidence would hide that.</exception>
    private static Signet.Transparency.SignedCheckpoint? LatestCheckpointCovering(string auditDirectory, List<byte[]> leaves)
    {
        var latest = new Signet.Transparency.AuditCheckpoints(auditDirectory).Latest();
        if (latest is null || latest.Checkpoint.Size > leaves.Count)
        {
            return null;
        }
        var root = Signet.Transparency.MerkleTree.Root(leaves.GetRange(0, (int)latest.Checkpoint.Size));
        if (!root.AsSpan().SequenceEqual(latest.Checkpoint.RootHash))
        {
            throw new SignetException($"the log's first {latest.Checkpoint.Size} records do not hash to the root of its checkpoint {Path.Combine(auditDirectory, Signet.Transparency.AuditCheckpoints.LatestFileName)}: records were changed after it was signed; run 'signet log verify --checkpoint' on a copy of a checkpoint kept elsewhere");
        }
        return latest;
    }

    /// <summary>The bundle's checkpoint: its size matches the manifest, the first Size records hash to its root, and it is signed by the log key.</summary>
    private static Signet.Transparency.CheckpointVerification? VerifyCheckpoint(string checkpointPath, string recordsPath, long? statedSize, PublicKey? manifestSigner,
        AuditBundleVerifyOptions options, List<string> problems, List<string> warnings)
    {
        if (!File.Exists(checkpointPath))
        {
            problems.Add($"the manifest states a checkpoint of size {statedSize}, but {CheckpointFileName} is missing: it was removed from the bundle");
            return null;
        }
        Signet.Transparency.SignedCheckpoint checkpoint;
        try
        {
            checkpoint = Signet.Transparency.SignedCheckpoint.Parse(File.ReadAllText(checkpointPath, new UTF8Encoding(false, throwOnInvalidBytes: true)));
        }
        catch (Exception e) when (e is SignetException or DecoderFallbackException)
        {
            problems.Add($"{CheckpointFileName}: {e.Message}");
            return null;
        }
        var size = checkpoint.Checkpoint.Size;
        if (statedSize != size)
        {
            problems.Add($"{CheckpointFileName} has size {size}, the manifest states {(statedSize is null ? "none" : statedSize)}");
        }
        var leaves = new List<byte[]>();
        using (var reader = new AuditLineReader(recordsPath))
        {
            while (leaves.Count < size && reader.TryRead(out var line))
            {
                if (line.Bytes.AsSpan().IndexOfAnyExcept(" \t\r"u8) >= 0)
                {
                    leaves.Add(Signet.Transparency.MerkleTree.LeafHash(line.Bytes));
                }
            }
        }
        if (leaves.Count < size)
        {
            problems.Add($"{CheckpointFileName} covers {size} records, {RecordsFileName} holds {leaves.Count}");
        }
        else if (!Signet.Transparency.MerkleTree.Root(leaves).AsSpan().SequenceEqual(checkpoint.Checkpoint.RootHash))
        {
            problems.Add($"the first {size} records of {RecordsFileName} do not hash to the checkpoint's root: records were changed, removed, inserted or reordered");
        }
        var logKey = options.CheckpointKey;
        if (logKey is null)
        {
            if (manifestSigner is null)
            {
                problems.Add($"{CheckpointFileName} cannot be checked: no log key was given and the manifest is not signed");
                return null;
            }
            // The manifest's signer is the log's key when the same user exported the log they signed.
            logKey = Signet.Transparency.NoteVerifierKey.ForSignatures(checkpoint.Checkpoint.Origin, manifestSigner);
            warnings.Add($"{CheckpointFileName} checked against the manifest signer's key (pass the log's verifier key to anchor it)");
        }
        try
        {
            return checkpoint.Verify(logKey, options.WitnessPolicy);
        }
        catch (Signet.Transparency.CheckpointVerificationException e)
        {
            problems.Add($"{CheckpointFileName}: {e.Message}");
            return null;
        }
    }

    /// <summary>The non-blank lines of a records file: what it holds, whether or not each line is a valid record.</summary>
    private static long CountRecordLines(string path)
    {
        long n = 0;
        using var reader = new AuditLineReader(path);
        while (reader.TryRead(out var line))
        {
            if (line.Bytes.AsSpan().IndexOfAnyExcept(" \t\r"u8) >= 0)
            {
                n++;
            }
        }
        return n;
    }

    private static bool TryDecodeSignature(string? text, out byte[] signature)
    {
        signature = [];
        if (text is not { Length: 96 } || !text.StartsWith("ed25519:", StringComparison.Ordinal))
        {
            return false;
        }
        try
        {
            signature = Convert.FromBase64String(text[8..]);
            return signature.Length == 64 && string.Equals(Convert.ToBase64String(signature), text[8..], StringComparison.Ordinal);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static void WriteDurable(string path, string text)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        stream.Write(Encoding.UTF8.GetBytes(text));
        stream.Flush(flushToDisk: true);
    }

    private static string? Text(JsonObject obj, string name) =>
        obj[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static long? Number(JsonObject obj, string name) =>
        obj[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && long.TryParse(v.ToJsonString(), CultureInfo.InvariantCulture, out var n) ? n : null;
}
