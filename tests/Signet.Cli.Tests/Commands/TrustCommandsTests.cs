using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Signet.Cli.Tests.Commands;

public sealed class TrustCommandsTests
{
    private static FakeTimeProvider At(string time) => new(DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture));

    private static async Task<string> NewKey(TempDir home, string name)
    {
        var made = await CliRunner.RunAsync(["key", "new", name, "--unencrypted", "--home", home.Path], time: At("2026-12-01T09:00:00Z"));
        Assert.True(made.ExitCode == 0, made.Error);
        return made.Out.Trim();
    }

    /// <summary>A new key, added to the home's trust bundle (created on the first call) as agents/<paramref name="id"/>.</summary>
    private static async Task<string> Trusted(TempDir home, string key, string id)
    {
        var pub = await NewKey(home, key);
        var added = await Run("2026-12-01T09:30:00Z", "trust", "add", "--id", id, "--pubkey", pub, "--home", home.Path);
        Assert.True(added.ExitCode == 0, added.Error);
        return pub;
    }

    /// <summary>Revokes agents/<paramref name="id"/> from 11:00 on, at 13:00.</summary>
    private static async Task Revoke(TempDir home, string id)
    {
        var revoked = await Run("2026-12-01T13:00:00Z", "trust", "revoke", "--id", id, "--at", "2026-12-01T11:00:00Z", "--reason", "laptop stolen", "--home", home.Path);
        Assert.True(revoked.ExitCode == 0, revoked.Error);
    }

    private static async Task<CliRunner.Result> Run(string time, params string[] args)
    {
        var result = await CliRunner.RunAsync(args, time: At(time));
        return result;
    }

    private static async Task<string> Sign(TempDir home, string key, string time, bool log = true)
    {
        string[] args = ["sign", "--key", key, "--tool", "deploy", "--params", "{\"env\":\"prod\"}", "--home", home.Path];
        var signed = await Run(time, log ? args : [.. args, "--no-log"]);
        Assert.True(signed.ExitCode == 0, signed.Error);
        return signed.Out;
    }

    [Fact]
    public async Task Verify_KeyRevokedAtATime_EarlierReceiptValidLaterRefused()
    {
        using var home = new TempDir();
        var pub = await Trusted(home, "agent", "ci");
        var before = home.File("before.json");
        var after = home.File("after.json");
        await File.WriteAllTextAsync(before, await Sign(home, "agent", "2026-12-01T10:00:00Z", log: false));
        await File.WriteAllTextAsync(after, await Sign(home, "agent", "2026-12-01T12:00:00Z", log: false));

        await Revoke(home, "ci");
        var bundle = Path.Combine(home.Path, "trust.json");

        var ok = await Run("2026-12-01T13:00:00Z", "verify", before, "--trust-bundle", bundle);
        var refused = await Run("2026-12-01T13:00:00Z", "verify", after, "--trust-bundle", bundle);
        var viaTrustedKeys = await Run("2026-12-01T13:00:00Z", "verify", after, "--trusted-keys", bundle);
        var referenceRule = await Run("2026-12-01T13:00:00Z", "verify", before, "--trust-bundle", bundle, "--trust-at", "now");

        Assert.True(ok.ExitCode == 0, ok.Out);
        Assert.DoesNotContain("integrity only", ok.Out);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"signed by key {pub} (agents/ci), which was revoked at 2026-12-01T11:00:00Z; receipt ts 2026-12-01T12:00:00.000Z is not before it", refused.Out);
        Assert.Equal(1, viaTrustedKeys.ExitCode);
        Assert.Contains("revoked at", viaTrustedKeys.Out);
        Assert.Equal(1, referenceRule.ExitCode);
        Assert.Contains("--trust-at", referenceRule.Out);
    }

    [Fact]
    public async Task TrustList_AtTimes_ShowsTrustAndComment()
    {
        using var home = new TempDir();
        var pub = await NewKey(home, "agent");
        var created = await Run("2026-12-01T09:30:00Z", "trust", "add", "--id", "ci", "--pubkey", pub, "--home", home.Path, "--env", "prod", "--org", "acme");
        Assert.Contains("creating the trust bundle", created.Error);
        await Run("2026-12-01T13:00:00Z", "trust", "disable", "--pubkey", pub, "--at", "2026-12-01T11:00:00Z", "--home", home.Path);

        var early = await Run("2026-12-01T13:00:00Z", "trust", "list", "--json", "--at", "2026-12-01T10:00:00Z", "--home", home.Path);
        var now = await Run("2026-12-01T13:00:00Z", "trust", "list", "--active-only", "--home", home.Path);
        var inspect = await Run("2026-12-01T13:00:00Z", "trust", "inspect", "--home", home.Path);

        var row = Assert.Single(JsonNode.Parse(early.Out)!.AsArray())!;
        Assert.True(row["trusted"]!.GetValue<bool>());
        Assert.Equal("disabled", row["status"]!.GetValue<string>());
        Assert.Equal("2026-12-01T11:00:00Z", row["trusted_until"]!.GetValue<string>());
        Assert.Contains("(no keys)", now.Out);
        Assert.Contains("org acme, env prod", inspect.Out);
        Assert.Contains("agents: 1 (0 active, 1 disabled, 0 revoked)", inspect.Out);
    }

    [Fact]
    public async Task LogVerify_KeyRevokedAtATime_OnlyLaterRecordsFail()
    {
        using var home = new TempDir();
        await Trusted(home, "agent", "ci");
        await Sign(home, "agent", "2026-12-01T10:00:00Z");
        await Sign(home, "agent", "2026-12-01T12:00:00Z");
        await Revoke(home, "ci");

        var result = await Run("2026-12-01T13:00:00Z", "log", "verify", "--home", home.Path, "--trust-bundle", Path.Combine(home.Path, "trust.json"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("signatures: 1 of 2 valid (checked against the trusted keys)", result.Out);
        Assert.Contains("line 2", result.Out);
        Assert.DoesNotContain("line 1 ", result.Out);
        Assert.Contains("was revoked at 2026-12-01T11:00:00Z; receipt ts 2026-12-01T12:00:00.000Z is not before it", result.Out);
    }

    [Fact]
    public async Task LogVerify_ReceiptBackdatedBeforeARevocationAfterALaterRecord_Refused()
    {
        using var home = new TempDir();
        await Trusted(home, "stolen", "stolen");
        await Trusted(home, "other", "other");
        await Sign(home, "other", "2026-12-01T12:00:00Z");
        // The thief signs after the revocation, with the receipt's ts set to before it (the ts is the signer's claim).
        var backdated = await Sign(home, "stolen", "2026-12-01T10:30:00Z");
        await Revoke(home, "stolen");
        var bundle = Path.Combine(home.Path, "trust.json");
        var file = home.File("backdated.json");
        await File.WriteAllTextAsync(file, backdated);

        var log = await Run("2026-12-01T13:00:00Z", "log", "verify", "--home", home.Path, "--trust-bundle", bundle);
        var alone = await Run("2026-12-01T13:00:00Z", "verify", file, "--trust-bundle", bundle);

        Assert.Equal(1, log.ExitCode);
        Assert.Contains("backdated after the key's trust ended", log.Out);
        Assert.Contains("follows 2026-12-01.jsonl line 1, dated 2026-12-01T12:00:00.000Z", log.Out);
        // On its own the receipt cannot be told from an honest one: that is what the log's order adds.
        Assert.Equal(0, alone.ExitCode);
    }

    [Fact]
    public async Task Rotate_AnnouncedInTheLog_NewKeyTrustedFromTheAnnouncementOldKeyNoLonger()
    {
        using var home = new TempDir();
        var oldPub = await Trusted(home, "old", "ci");
        var newPub = await NewKey(home, "new");
        var bundle = Path.Combine(home.Path, "trust.json");
        var original = home.File("original.json");
        File.Copy(bundle, original);
        await Sign(home, "old", "2026-12-01T10:00:00Z");

        var rotated = await Run("2026-12-01T11:00:00Z", "trust", "rotate", "--key", "old", "--new-key", "new", "--new-id", "ci-2", "--home", home.Path);
        Assert.True(rotated.ExitCode == 0, rotated.Error + rotated.Out);
        await Sign(home, "new", "2026-12-01T12:00:00Z");

        // An auditor with the bundle from before the rotation learns the new key from the log.
        var fromLog = await Run("2026-12-01T13:00:00Z", "log", "verify", "--home", home.Path, "--trust-bundle", original);
        var fromBundle = await Run("2026-12-01T13:00:00Z", "log", "verify", "--home", home.Path, "--trust-bundle", bundle);
        await Sign(home, "old", "2026-12-01T13:00:00Z");
        var oldAfter = await Run("2026-12-01T14:00:00Z", "log", "verify", "--home", home.Path, "--trust-bundle", original);
        var list = await Run("2026-12-01T13:00:00Z", "trust", "list", "--json", "--home", home.Path);

        Assert.True(fromLog.ExitCode == 0, fromLog.Out);
        Assert.Contains($"{oldPub} -> {newPub} accepted", fromLog.Out);
        Assert.True(fromBundle.ExitCode == 0, fromBundle.Out);
        Assert.Equal(1, oldAfter.ExitCode);
        Assert.Contains("line 4", oldAfter.Out);
        Assert.Contains("was disabled at 2026-12-01T11:00:00.001Z", oldAfter.Out);
        var rows = JsonNode.Parse(list.Out)!.AsArray();
        Assert.Equal(["ci", "ci-2"], rows.Select(r => r!["id"]!.GetValue<string>()));
        Assert.False(rows[0]!["trusted"]!.GetValue<bool>());
        Assert.True(rows[1]!["trusted"]!.GetValue<bool>());
    }

    [Fact]
    public async Task LogVerify_AnnouncementByAKeyTheBundleDoesNotTrust_RefusedAndReported()
    {
        using var home = new TempDir();
        var oldPub = await Trusted(home, "old", "ci");
        var newPub = await NewKey(home, "new");
        var auditorPub = await NewKey(home, "auditor");
        await Run("2026-12-01T11:00:00Z", "trust", "rotate", "--key", "old", "--new-key", "new", "--home", home.Path);
        await Sign(home, "new", "2026-12-01T12:00:00Z");
        var unrelated = home.File("unrelated.json");
        var made = await Run("2026-12-01T09:30:00Z", "trust", "add", "--id", "auditor", "--pubkey", auditorPub, "--bundle", unrelated);
        Assert.True(made.ExitCode == 0, made.Error);

        var result = await Run("2026-12-01T13:00:00Z", "log", "verify", "--home", home.Path, "--trust-bundle", unrelated);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("key rotation at 2026-12-01.jsonl line 1", result.Out);
        Assert.Contains("REFUSED: rotation to " + newPub + " ignored: the announcing key was not trusted", result.Out);
        Assert.Contains($"signed by key {newPub}, which is not in the trust bundle's agents", result.Out);
    }

    [Fact]
    public async Task Rotate_OldKeyNotInTheBundle_RefusesAndWritesNothing()
    {
        using var home = new TempDir();
        var other = await Trusted(home, "other", "x");
        await NewKey(home, "old");
        await NewKey(home, "new");

        var result = await Run("2026-12-01T11:00:00Z", "trust", "rotate", "--key", "old", "--new-key", "new", "--home", home.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("only a trusted key can announce its successor", result.Error);
        Assert.False(Directory.Exists(Path.Combine(home.Path, "audit")) && Directory.EnumerateFiles(Path.Combine(home.Path, "audit"), "*.jsonl").Any());
    }

    [Fact]
    public async Task LogVerifyEvidenceBundle_WithTrustBundle_JudgesTheReceiptsAndTheManifestKeySeparately()
    {
        using var home = new TempDir();
        var pub = await Trusted(home, "agent", "ci");
        var auditor = await NewKey(home, "auditor");
        await Sign(home, "agent", "2026-12-01T10:00:00Z");
        await Sign(home, "agent", "2026-12-01T12:00:00Z");
        var evidence = Path.Combine(home.Path, "evidence");
        var export = await Run("2026-12-01T12:30:00Z", "log", "export", "--key", "auditor", "--home", home.Path, "--out", evidence);
        Assert.True(export.ExitCode == 0, export.Error);
        var bundle = Path.Combine(home.Path, "trust.json");

        var before = await Run("2026-12-01T13:00:00Z", "log", "verify", "--bundle", evidence, "--pubkey", auditor, "--trust-bundle", bundle);
        await Revoke(home, "ci");
        var after = await Run("2026-12-01T13:00:00Z", "log", "verify", "--bundle", evidence, "--pubkey", auditor, "--trust-bundle", bundle);

        Assert.True(before.ExitCode == 0, before.Out);
        Assert.Contains("(trusted)", before.Out);
        Assert.Contains("2 of 2 valid and trusted by the trust bundle", before.Out);
        Assert.Equal(1, after.ExitCode);
        Assert.Contains("records.jsonl line 2", after.Out);
        Assert.Contains("was revoked at 2026-12-01T11:00:00Z", after.Out);
    }

    [Fact]
    public async Task Rotate_NewIdAlreadyTaken_RefusesBeforeSigning()
    {
        using var home = new TempDir();
        var oldPub = await Trusted(home, "old", "ci");
        var other = await Trusted(home, "other", "ci-2");
        await NewKey(home, "new");

        var result = await Run("2026-12-01T11:00:00Z", "trust", "rotate", "--key", "old", "--new-key", "new", "--new-id", "ci-2", "--home", home.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("already has an entry \"ci-2\"", result.Error);
        Assert.False(Directory.Exists(Path.Combine(home.Path, "audit")) && Directory.EnumerateFiles(Path.Combine(home.Path, "audit"), "*.jsonl").Any());
    }

    [Fact]
    public async Task TrustAdd_BadBundle_ErrorNamesEntryAndField()
    {
        using var home = new TempDir();
        var bundle = home.File("trust.json");
        await File.WriteAllTextAsync(bundle, """
            {"version":1,"bundle_id":"b","org":"o","env":"prod","generated_at":"2026-12-01T00:00:00Z","roots":[],
             "agents":[{"id":"a","name":"a","owner":"","pubkey":"ed25519:re0crWU/9YjQYx5F7TYI2YQ+hehKw6zPEpIV2OdVWoc=","status":"active","created_at":"yesterday"}],
             "servers":[]}
            """);

        var result = await Run("2026-12-01T09:30:00Z", "trust", "list", "--bundle", bundle);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{bundle}: agents[0] (id \"a\"), field \"created_at\": \"yesterday\" is not a UTC RFC 3339 time", result.Error);
    }
}
