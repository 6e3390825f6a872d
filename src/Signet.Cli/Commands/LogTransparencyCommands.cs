using System.CommandLine;
using System.Globalization;
using System.Text;
using Signet.Audit;
using Signet.Cli.Pkcs11;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Cli.Commands;

/// <summary>
/// <c>signet log checkpoint | publish | prove</c>: the audit log as a Merkle tree with signed checkpoints, witness
/// cosignatures, and inclusion and consistency proofs (docs/transparency.md).
/// </summary>
internal static class LogTransparencyCommands
{
    public static Command Checkpoint(CliConsole console)
    {
        var home = CommonOptions.Home();
        var keys = new KeyOptions();
        var transparency = new TransparencyOptions();
        var verifierKey = new Option<bool>("--verifier-key") { Description = "Print the log's note verifier key (name+id+key, what witnesses and auditors pass as --log / --log-key) and stop; the key is not unlocked" };
        var save = new Option<string?>("--save") { HelpName = "DIR", Description = "Also write the checkpoint and the tiles it covers into DIR, to keep elsewhere: 'log verify --checkpoint DIR/checkpoint' then names the first record that changed" };
        var command = new Command("checkpoint", "Sign a checkpoint (C2SP tlog-checkpoint) of the audit log's Merkle tree, print it, and publish it to --witness")
        {
            home, verifierKey, save,
        };
        keys.AddTo(command);
        transparency.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var homeDir = CommonOptions.ResolveHome(parse.GetValue(home), console);
            if (parse.GetValue(verifierKey))
            {
                var name = keys.ResolveName(parse, console);
                PublicKey publicKey;
                if (Pkcs11Uri.IsUri(name) || keys.ResolveAgent(parse, console) is not null)
                {
                    // A token's public key is read from the token (its PIN opens the session), an agent's from the agent.
                    using var tokenKey = keys.Load(parse, homeDir, console);
                    publicKey = tokenKey.PublicKey;
                }
                else
                {
                    var store = KeyStore.ForHome(homeDir, console.Time);
                    if (!store.Exists(name))
                    {
                        throw new SignetException($"no key \"{name}\" in {Path.Combine(homeDir, "keys")}: create one with 'signet key new {name}'");
                    }
                    publicKey = store.Describe(name).PublicKey;
                }
                await console.Out.WriteLineAsync(NoteVerifierKey.ForSignatures(transparency.ResolveOrigin(parse, publicKey), publicKey).ToString());
                return SignetCli.Ok;
            }
            var witnesses = transparency.ResolveWitnesses(parse);
            var directory = ExistingAuditDirectory(homeDir);
            using var key = keys.Load(parse, homeDir, console);
            var signer = new NoteSigner(transparency.ResolveOrigin(parse, key.PublicKey), key.Signer);
            using var tree = AuditTree.Open(directory);
            var checkpoints = new AuditCheckpoints(directory);
            var checkpoint = checkpoints.Create(tree, signer);
            var status = SignetCli.Ok;
            if (witnesses.Count > 0)
            {
                (checkpoint, status) = await PublishAsync(console, checkpoint, tree, checkpoints, witnesses, transparency.ResolveToken(parse, console), ct);
            }
            if (parse.GetValue(save) is { } saveDir)
            {
                // The partial tiles of this size exist once it was checkpointed; written again here in case a rebuild dropped them.
                tree.WriteCheckpointTiles(checkpoint.Checkpoint.Size);
                SaveWithTiles(checkpoint, directory, saveDir);
                await console.Error.WriteLineAsync($"saved the checkpoint and its tiles in {saveDir}");
            }
            await console.Out.WriteAsync(checkpoint.ToString());
            return status;
        });
        return command;
    }

    public static Command Publish(CliConsole console)
    {
        var home = CommonOptions.Home();
        var transparency = new TransparencyOptions();
        var command = new Command("publish", "Send the latest checkpoint to --witness witnesses and add their cosignatures to it (no key needed)")
        {
            home,
        };
        command.Options.Add(transparency.Witnesses);
        command.Options.Add(transparency.WitnessTokenFile);
        command.SetAction(async (parse, ct) =>
        {
            var witnesses = transparency.ResolveWitnesses(parse);
            if (witnesses.Count == 0)
            {
                throw new CliUsageException("give at least one --witness URL=VKEY");
            }
            var directory = ExistingAuditDirectory(CommonOptions.ResolveHome(parse.GetValue(home), console));
            var store = new AuditCheckpoints(directory);
            var latest = store.Latest() ?? throw new SignetException($"no checkpoint in {store.LatestPath} yet: sign one with 'signet log checkpoint'");
            using var tree = AuditTree.Open(directory);
            AuditCheckpoints.CheckExtends(tree, latest.Checkpoint, store.LatestPath);
            var (published, status) = await PublishAsync(console, latest, tree, store, witnesses, transparency.ResolveToken(parse, console), ct);
            await console.Out.WriteAsync(published.ToString());
            return status;
        });
        return command;
    }

    public static Command Prove(CliConsole console)
    {
        var home = CommonOptions.Home();
        var receiptId = new Argument<string?>("receipt-id") { Description = "The id of the receipt to prove (or use --index)", Arity = ArgumentArity.ZeroOrOne };
        var index = new Option<long?>("--index") { Description = "The record's zero-based index in the log instead of a receipt id" };
        var from = new Option<long?>("--from") { HelpName = "M", Description = "Prove that the tree of size --to extends the tree of size M (a consistency proof)" };
        var to = new Option<long?>("--to") { HelpName = "N", Description = "With --from: a checkpointed size (default: the latest checkpoint)" };
        var output = new Option<string?>("--out") { HelpName = "FILE", Description = "Write the proof to FILE instead of stdout" };
        var command = new Command("prove",
            "Write a C2SP tlog-proof that a receipt is in the log (its record in 'extra', against the latest checkpoint), or with --from a consistency proof")
        {
            home, receiptId, index, from, to, output,
        };
        command.SetAction(async (parse, ct) =>
        {
            var directory = ExistingAuditDirectory(CommonOptions.ResolveHome(parse.GetValue(home), console));
            var store = new AuditCheckpoints(directory);
            using var tree = AuditTree.Open(directory);
            string text;
            if (parse.GetValue(from) is { } oldSize)
            {
                if (parse.GetValue(receiptId) is not null || parse.GetValue(index) is not null)
                {
                    throw new CliUsageException("--from proves consistency between two sizes; give no receipt id or --index with it");
                }
                var checkpoint = CheckpointOfSize(store, parse.GetValue(to));
                AuditCheckpoints.CheckExtends(tree, checkpoint.Checkpoint, store.LatestPath);
                var newSize = checkpoint.Checkpoint.Size;
                if (oldSize < 0 || oldSize > newSize)
                {
                    throw new CliUsageException($"--from {oldSize}: give a size from 0 to {newSize}");
                }
                var proof = oldSize == 0 || oldSize == newSize ? (IReadOnlyList<byte[]>)[] : tree.ConsistencyProof(oldSize, newSize);
                // The tlog-witness add-checkpoint body: old size, proof lines, blank line, the checkpoint.
                text = AddCheckpointRequest.Format(oldSize, proof, checkpoint);
            }
            else
            {
                if (parse.GetValue(to) is not null)
                {
                    throw new CliUsageException("--to goes with --from");
                }
                var latest = store.Latest() ?? throw new SignetException($"no checkpoint in {store.LatestPath} yet: sign one with 'signet log checkpoint'");
                AuditCheckpoints.CheckExtends(tree, latest.Checkpoint, store.LatestPath);
                var leaf = ResolveIndex(directory, parse.GetValue(receiptId), parse.GetValue(index));
                if (leaf >= latest.Checkpoint.Size)
                {
                    throw new SignetException(string.Create(CultureInfo.InvariantCulture,
                        $"record {leaf} is not covered by the latest checkpoint (size {latest.Checkpoint.Size}): sign a new one with 'signet log checkpoint' first"));
                }
                var entry = tree.ReadEntry(leaf);
                var proof = new TlogProof(leaf, tree.InclusionProof(leaf, latest.Checkpoint.Size), latest, entry.Line);
                text = proof.ToString();
                await console.Error.WriteLineAsync($"record {leaf} ({entry.Path} line {entry.LineNumber}) in the tree of size {latest.Checkpoint.Size} signed by {latest.Checkpoint.Origin}");
            }
            if (parse.GetValue(output) is { } file)
            {
                await File.WriteAllTextAsync(file, text, ct);
            }
            else
            {
                await console.Out.WriteAsync(text);
            }
            return SignetCli.Ok;
        });
        return command;
    }

    private static async Task<(SignedCheckpoint, int)> PublishAsync(CliConsole console, SignedCheckpoint checkpoint, AuditTree tree, AuditCheckpoints store,
        IReadOnlyList<WitnessEndpoint> witnesses, string? token, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var publisher = new WitnessPublisher(witnesses, new WitnessClient(http, token));
        var result = await publisher.PublishAsync(checkpoint, tree, store, ct);
        var failed = 0;
        foreach (var outcome in result.Outcomes)
        {
            if (outcome.Error is null)
            {
                await console.Error.WriteLineAsync($"witness {outcome.Witness.Key.Name}: cosigned size {checkpoint.Checkpoint.Size}");
            }
            else
            {
                failed++;
                await console.Error.WriteLineAsync($"witness {outcome.Witness.Key.Name}: NOT cosigned: {outcome.Error.Message}");
            }
        }
        return (result.Checkpoint, failed == 0 ? SignetCli.Ok : SignetCli.Failed);
    }

    private static SignedCheckpoint CheckpointOfSize(AuditCheckpoints store, long? size)
    {
        if (size is null)
        {
            return store.Latest() ?? throw new SignetException($"no checkpoint in {store.LatestPath} yet: sign one with 'signet log checkpoint'");
        }
        return store.History().FirstOrDefault(c => c.Checkpoint.Size == size)
            ?? throw new SignetException(string.Create(CultureInfo.InvariantCulture,
                $"no checkpoint of size {size} was signed (sizes signed: {string.Join(", ", store.History().Select(c => c.Checkpoint.Size))})"));
    }

    /// <summary>The index of a record: given, or found by its receipt id (one pass over the log).</summary>
    private static long ResolveIndex(string directory, string? receiptId, long? index)
    {
        if ((receiptId is null) == (index is null))
        {
            throw new CliUsageException("give a receipt id or --index N (one of them)");
        }
        if (index is { } given)
        {
            return given >= 0 ? given : throw new CliUsageException("--index is zero or more");
        }
        long position = 0;
        AuditSkippedLine? skipped = null;
        foreach (var entry in AuditQuery.Read(directory, null, s => skipped ??= s))
        {
            if (skipped is not null)
            {
                break;
            }
            if (string.Equals(entry.Receipt["id"]?.GetValue<string>(), receiptId, StringComparison.Ordinal))
            {
                return position;
            }
            position++;
        }
        if (skipped is not null)
        {
            throw new SignetException($"{skipped.File} line {skipped.Line} is not a record ({skipped.Reason}), so record positions after it are unknown: run 'signet log verify'");
        }
        throw new SignetException($"no receipt with id {receiptId} in the audit log in {directory}");
    }

    internal static string ExistingAuditDirectory(string home)
    {
        var directory = SignetHome.AuditDirectory(home);
        if (!Directory.Exists(directory))
        {
            throw new SignetException($"there is no audit log in {directory}");
        }
        return directory;
    }

    /// <summary>Copies the checkpoint and the tiles of its size (C2SP layout) into <paramref name="destination"/>.</summary>
    private static void SaveWithTiles(SignedCheckpoint checkpoint, string auditDirectory, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var relative in TilesOfSize(checkpoint.Checkpoint.Size))
        {
            var source = Path.Combine(auditDirectory, relative);
            var target = Path.Combine(destination, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target, overwrite: true);
        }
        File.WriteAllText(Path.Combine(destination, AuditCheckpoints.LatestFileName), checkpoint.ToString(), new UTF8Encoding(false));
    }

    /// <summary>The tiles (C2SP paths) a tree of <paramref name="size"/> is made of: every full tile, and the partial ones of that size.</summary>
    internal static IEnumerable<string> TilesOfSize(long size)
    {
        var span = 1L;
        for (var level = 0; span <= size && level < 8; level++)
        {
            var hashes = size / span; // hashes at this level
            for (long n = 0; n < hashes / TilePath.Width; n++)
            {
                yield return TilePath.Of(level, n);
            }
            if (hashes % TilePath.Width is var width and > 0)
            {
                yield return TilePath.Of(level, hashes / TilePath.Width, (int)width);
            }
            span *= TilePath.Width;
        }
    }

    /// <summary>What <c>log verify --checkpoint</c> found.</summary>
    internal sealed record CheckpointCheck(bool Consistent, long LogSize, string Message, long? FirstDifferentIndex, string? File, long Line, string? Anchor);

    /// <summary>
    /// Checks that the log, as its day files hold it now, extends <paramref name="checkpoint"/>: its first Size records
    /// hash (recomputed from the JSONL lines, not read from the tiles) to the checkpoint's root. When they do not, the
    /// first record that differs is found from level-0 tiles of the checkpoint's tree: those in
    /// <paramref name="referenceTiles"/> (a copy kept with the checkpoint), else the log's own, used only when their
    /// hashes give the checkpoint's root (so they are that tree's, whoever kept them).
    /// </summary>
    internal static CheckpointCheck CheckAgainst(string auditDirectory, Checkpoint checkpoint, string? referenceTiles)
    {
        var leaves = new List<byte[]>();
        var places = new List<(string File, long Line)>();
        AuditTreeScanner.Scan(auditDirectory, default, (hash, _, in leaf) =>
        {
            leaves.Add(hash.ToArray());
            places.Add((leaf.File, leaf.Line));
            return true;
        });
        var size = checkpoint.Size;
        var n = leaves.Count;
        if (n >= size && MerkleTree.Root(leaves.GetRange(0, (int)size)).AsSpan().SequenceEqual(checkpoint.RootHash))
        {
            return new CheckpointCheck(true, n, string.Create(CultureInfo.InvariantCulture,
                $"the log's first {size} records hash to the checkpoint's root; the log has {n} records: a consistent extension"), null, null, 0, null);
        }
        var what = n < size
            ? string.Create(CultureInfo.InvariantCulture, $"the log has {n} records but the checkpoint covers {size}")
            : string.Create(CultureInfo.InvariantCulture, $"the log's first {size} records do not hash to the checkpoint's root");
        foreach (var source in new[] { referenceTiles, auditDirectory })
        {
            if (source is null || ReadLeafTiles(source, size) is not { } reference
                || !MerkleTree.Root(reference).AsSpan().SequenceEqual(checkpoint.RootHash))
            {
                continue;
            }
            for (var i = 0; i < size; i++)
            {
                if (i >= n)
                {
                    var (lastFile, lastLine) = n > 0 ? places[n - 1] : (null, 0L);
                    return new CheckpointCheck(false, n, string.Create(CultureInfo.InvariantCulture,
                        $"{what}: records {i} to {size - 1} are gone{(lastFile is null ? "" : $" (the log now ends at {lastFile} line {lastLine})")}"), i, lastFile, lastLine, source);
                }
                if (!reference[i].AsSpan().SequenceEqual(leaves[i]))
                {
                    var (file, line) = places[i];
                    return new CheckpointCheck(false, n, string.Create(CultureInfo.InvariantCulture,
                        $"{what}: record {i} ({file} line {line}) is not the record the checkpoint holds at {i} (removed, inserted, reordered or changed from there on)"), i, file, line, source);
                }
            }
        }
        return new CheckpointCheck(false, n, what + ": which record differs cannot be told without the checkpoint's tiles (keep them with it: 'signet log checkpoint --save DIR', then pass --tiles DIR)",
            null, null, 0, null);
    }

    /// <summary>The first <paramref name="size"/> leaf hashes from the level-0 tiles under <paramref name="directory"/>, or null when a tile is missing or malformed.</summary>
    private static List<byte[]>? ReadLeafTiles(string directory, long size)
    {
        var leaves = new List<byte[]>((int)Math.Min(size, 1 << 20));
        for (long n = 0; n * TilePath.Width < size; n++)
        {
            var width = (int)Math.Min(TilePath.Width, size - n * TilePath.Width);
            byte[] bytes;
            try
            {
                // A full tile serves any width; the partial one of exactly this width otherwise.
                var full = TilePath.File(directory, 0, n);
                bytes = File.Exists(full) ? File.ReadAllBytes(full) : File.ReadAllBytes(TilePath.File(directory, 0, n, width));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
            if (bytes.Length < width * MerkleTree.HashSize || bytes.Length % MerkleTree.HashSize != 0)
            {
                return null;
            }
            for (var i = 0; i < width; i++)
            {
                leaves.Add(bytes.AsSpan(i * MerkleTree.HashSize, MerkleTree.HashSize).ToArray());
            }
        }
        return leaves;
    }

    /// <summary>The checkpoint part of <c>log verify --checkpoint</c>: the signature, then the consistency of the log with it.</summary>
    internal static CheckpointReport VerifyCheckpointFile(CliConsole console, string home, string auditDirectory, string file, NoteVerifierKey? logKey, WitnessPolicy? policy, string? tiles)
    {
        SignedCheckpoint signed;
        try
        {
            signed = SignedCheckpoint.Parse(File.ReadAllText(file, new UTF8Encoding(false, throwOnInvalidBytes: true)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DecoderFallbackException or SignetException)
        {
            throw new SignetException($"--checkpoint {file}: {e.Message}", e);
        }
        var origin = signed.Checkpoint.Origin;
        string signature;
        var signatureOk = true;
        var key = logKey;
        if (key is null)
        {
            // A key of this home whose default origin the checkpoint names: the log's own key.
            var store = KeyStore.ForHome(home, console.Time);
            foreach (var entry in store.List())
            {
                if (entry.Info is { } info && AuditCheckpoints.DefaultOrigin(info.PublicKey) == origin)
                {
                    key = NoteVerifierKey.ForSignatures(origin, info.PublicKey);
                    break;
                }
            }
        }
        if (key is null)
        {
            signature = $"NOT checked: no --log-key given and no key in {Path.Combine(home, "keys")} signs for \"{origin}\"";
            signatureOk = false;
        }
        else
        {
            try
            {
                var verified = signed.Verify(key, policy);
                signature = $"signed by {key.Name}+{key.KeyId:x8}" + (logKey is null ? " (a key of this home)" : "")
                    + (verified.Cosignatures.Count == 0 ? "" : $", cosigned by {string.Join(", ", verified.Cosignatures.Select(c => c.Witness))}");
            }
            catch (CheckpointVerificationException e)
            {
                signature = "INVALID: " + e.Message;
                signatureOk = false;
            }
        }
        if (tiles is null)
        {
            // 'log checkpoint --save DIR' puts the tiles in DIR/tile beside DIR/checkpoint.
            var folder = Path.GetDirectoryName(Path.GetFullPath(file))!;
            if (Directory.Exists(Path.Combine(folder, "tile")))
            {
                tiles = folder;
            }
        }
        var check = CheckAgainst(auditDirectory, signed.Checkpoint, tiles);
        return new CheckpointReport(file, signed.Checkpoint, signature, key is not null && signatureOk, check);
    }

    /// <summary>The verdict on a checkpoint given to <c>log verify</c>.</summary>
    internal sealed record CheckpointReport(string File, Checkpoint Checkpoint, string Signature, bool SignatureValid, CheckpointCheck Check)
    {
        /// <summary>Consistent, and signed by the log key (an unchecked signature is not a pass: the checkpoint could be anyone's).</summary>
        public bool Consistent => Check.Consistent && SignatureValid;

        public async Task WriteAsync(CliConsole console)
        {
            await console.Out.WriteLineAsync($"checkpoint {File}: {Checkpoint.Origin} at size {Checkpoint.Size}, {Signature}");
            await console.Out.WriteLineAsync(Check.Consistent
                ? $"  CONSISTENT: {Check.Message}"
                : $"  INCONSISTENT: {Check.Message}");
        }

        public System.Text.Json.Nodes.JsonObject ToJson() => new()
        {
            ["file"] = File,
            ["origin"] = Checkpoint.Origin,
            ["size"] = Checkpoint.Size,
            ["signature"] = Signature,
            ["signature_valid"] = SignatureValid,
            ["consistent"] = Check.Consistent,
            ["log_size"] = Check.LogSize,
            ["first_different_index"] = Check.FirstDifferentIndex,
            ["first_different_file"] = Check.File,
            ["first_different_line"] = Check.File is null ? null : Check.Line,
            ["message"] = Check.Message,
        };
    }

    /// <summary>A log verifier key given inline or in a file; a malformed one is a usage error.</summary>
    internal static NoteVerifierKey ParseLogKey(string text)
    {
        try
        {
            return NoteVerifierKey.Parse(WitnessCommands.ReadKeyArgument(text));
        }
        catch (SignetException e)
        {
            throw new CliUsageException($"--log-key {text}: {e.Message}");
        }
    }

    /// <summary>The witness policy of <c>--witness-key</c> (repeatable) and <c>--witnesses N</c>; null when none is given.</summary>
    internal static WitnessPolicy? Policy(string[] witnessKeys, int? required)
    {
        if (witnessKeys.Length == 0)
        {
            return required is null or 0 ? null : throw new CliUsageException("--witnesses counts --witness-key witnesses; give them");
        }
        var keys = new List<NoteVerifierKey>();
        foreach (var text in witnessKeys)
        {
            try
            {
                keys.Add(NoteVerifierKey.Parse(WitnessCommands.ReadKeyArgument(text)));
            }
            catch (SignetException e)
            {
                throw new CliUsageException($"--witness-key {text}: {e.Message}");
            }
        }
        var n = required ?? keys.Count;
        if (n < 0 || n > keys.Count)
        {
            throw new CliUsageException($"--witnesses {n}: give a number from 0 to the {keys.Count} --witness-key given");
        }
        try
        {
            return WitnessPolicy.Threshold(n, keys);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException($"--witness-key: {e.Message}");
        }
    }
}
