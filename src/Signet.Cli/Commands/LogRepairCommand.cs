using System.CommandLine;
using System.Text.Json.Nodes;
using Signet.Audit;
using Signet.Receipts;

namespace Signet.Cli.Commands;

/// <summary>
/// <c>signet log repair</c>: moves a corrupt last line of the audit log aside and records the repair in the log as a
/// receipt signed with the user's key, so that writers can append again and the removal stays on the record.
/// </summary>
internal static class LogRepairCommand
{
    /// <summary>The tool name of the receipt that records a repair.</summary>
    public const string RepairTool = "signet.log.repair";

    /// <summary>The target of that receipt: the log itself.</summary>
    public const string RepairTarget = "signet://audit-log";

    public static Command Create(CliConsole console)
    {
        var home = CommonOptions.Home();
        var keys = new KeyOptions();
        var command = new Command("repair",
            "Move a corrupt last line of the audit log (complete, but not a valid record) aside into a .corrupt file and " +
            "record that in the log, signed with --key; does nothing when the log needs no repair")
        {
            home,
        };
        keys.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var homeDir = CommonOptions.ResolveHome(parse.GetValue(home), console);
            var directory = SignetHome.AuditDirectory(homeDir);
            if (!Directory.Exists(directory))
            {
                await console.Out.WriteLineAsync($"nothing to repair: there is no audit log in {directory}");
                return SignetCli.Ok;
            }
            var options = new AuditLogOptions { TimeProvider = console.Time };

            // A log that a writer can open needs no repair, and no key is unlocked for it.
            try
            {
                await using var probe = AuditLog.Open(directory, options);
                await WriteTorn(console, probe.RecoveredTornTails);
                await console.Out.WriteLineAsync($"nothing to repair: the log in {directory} ends with a record that appends continue from");
                return SignetCli.Ok;
            }
            catch (AuditLogCorruptException)
            {
                // Repaired below.
            }

            using var loaded = keys.Load(parse, homeDir, console);
            var signer = new ReceiptSigner(loaded.Signer, loaded.Name, loaded.Owner, console.Time);
            var result = await AuditLog.RepairAsync(directory, line => signer.SignRequest(new ReceiptAction
            {
                Tool = RepairTool,
                Params = new JsonObject
                {
                    ["file"] = Path.GetFileName(line.File),
                    ["line"] = line.Line,
                    ["offset"] = line.Offset,
                    ["length"] = line.Length,
                    ["sha256"] = line.Sha256,
                    ["reason"] = line.Reason,
                    ["moved_to"] = Path.GetFileName(line.SavedAs),
                },
                Target = RepairTarget,
                Transport = "local",
            }).Json, options, null, ct);

            await WriteTorn(console, result.TornTails);
            if (result.NothingToRepair)
            {
                await console.Out.WriteLineAsync($"nothing to repair: the log in {directory} ends with a record that appends continue from");
                return SignetCli.Ok;
            }
            foreach (var (line, record) in result.Repaired)
            {
                await console.Out.WriteLineAsync(
                    $"moved {Path.GetFileName(line.File)} line {line.Line} ({line.Length} bytes, {line.Sha256}) to {line.SavedAs}: {line.Reason}");
                await console.Out.WriteLineAsync(
                    $"  recorded in the log: {Path.GetFileName(record.File)} line {record.Line}, a {RepairTool} receipt signed by key \"{loaded.Name}\" ({loaded.PublicKey}), record_hash {record.RecordHash}");
            }
            await console.Out.WriteLineAsync("appends continue; 'signet log verify' checks the chain, which still shows any other damage");
            return SignetCli.Ok;
        });
        return command;
    }

    /// <summary>
    /// What <c>log verify</c> reports on stderr besides the chain: <c>*.jsonl</c> files that are not day files (not
    /// walked) and lines that a repair moved aside. Neither changes the exit code; the repair is also in the chain.
    /// </summary>
    public static async Task WriteVerifyWarnings(CliConsole console, AuditVerifyResult result)
    {
        foreach (var file in result.OtherFiles)
        {
            await console.Error.WriteLineAsync(
                $"signet: warning: {file} is not a day file (YYYY-MM-DD.jsonl), so it is not part of the chain and was not verified; move it out of the audit directory");
        }
        foreach (var repair in result.RepairFiles)
        {
            await console.Error.WriteLineAsync(
                $"signet: note: a corrupt line ({repair.Length} bytes) was moved aside by 'signet log repair' and kept as {repair.Path}; its {RepairTool} receipt is in the chain");
        }
    }

    private static async Task WriteTorn(CliConsole console, IReadOnlyList<AuditTornTail> torn)
    {
        foreach (var t in torn)
        {
            await console.Out.WriteLineAsync($"moved a torn last line (no newline, {t.Length} bytes) of {Path.GetFileName(t.File)} aside to {t.SavedAs}");
        }
    }
}
