using Signet.Keys;
using Signet.Tests.Shared;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

/// <summary>A folder for the files tests/interop/go/notecheck (Go's golang.org/x/mod/sumdb/note) reads.</summary>
public sealed class GoNoteCheck : IDisposable
{
    public GoNoteCheck()
    {
        Work = Path.Combine(Path.GetTempPath(), "signet-notecheck-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Work);
    }

    public string Work { get; }

    /// <summary>Runs notecheck (built once per test run; a missing Go fails the test, naming the packages).</summary>
    public (int ExitCode, string Stdout, string Stderr) Check(params string[] args) => GoDriver.Run("notecheck", args);

    public string WriteFile(string content)
    {
        var path = Path.Combine(Work, Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, content, NoteText.StrictUtf8);
        return path;
    }

    public void Dispose() => Directory.Delete(Work, recursive: true);
}

/// <summary>Our notes and cosignatures checked by Go's golang.org/x/mod/sumdb/note, and Go's notes read by us.</summary>
public sealed class NoteGoInteropTests : IClassFixture<GoNoteCheck>, IDisposable
{
    private static readonly DateTimeOffset Time = DateTimeOffset.FromUnixTimeSeconds(1_800_000_123);
    private readonly GoNoteCheck _go;
    private readonly SigningKey _log = TestKeys.Make(21);
    private readonly SigningKey _witness = TestKeys.Make(22);

    public NoteGoInteropTests(GoNoteCheck go) => _go = go;

    public void Dispose()
    {
        _log.Dispose();
        _witness.Dispose();
    }

    private NoteSigner LogSigner => new("example.com/signet-log", _log);

    private SignedCheckpoint Cosigned()
    {
        var signed = SignedCheckpoint.Create(TestKeys.Checkpoint(42, "example.com/signet-log"), LogSigner);
        return signed.WithSignatures([Cosignature.Sign("witness.example/w1", _witness, signed.Note.Text, Time)]);
    }

    [Fact]
    public void GoVerify_OurCheckpointAndVkey_Verifies()
    {
        var note = Cosigned();

        var (exit, stdout, stderr) = _go.Check("verify", LogSigner.VerifierKey.ToString(), _go.WriteFile(note.ToString()));

        Assert.True(exit == 0, stderr);
        Assert.Equal(note.Note.Text, stdout);
    }

    [Fact]
    public void GoVerify_OurNoteWithAlteredText_IsRefused()
    {
        var altered = Cosigned().ToString().Replace("\n42\n", "\n43\n", StringComparison.Ordinal);

        var (exit, _, stderr) = _go.Check("verify", LogSigner.VerifierKey.ToString(), _go.WriteFile(altered));

        Assert.Equal(1, exit);
        Assert.Contains("invalid signature", stderr);
    }

    [Fact]
    public void GoVerifyCosignature_OurCosignature_VerifiesWithItsTime()
    {
        var vkey = NoteVerifierKey.ForCosignatures("witness.example/w1", _witness.PublicKey);

        var (exit, stdout, stderr) = _go.Check("verify-cosignature", vkey.ToString(), _go.WriteFile(Cosigned().ToString()));

        Assert.True(exit == 0, stderr);
        Assert.EndsWith("\ntime 1800000123\n", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void GoVerifyCosignature_CosignatureOfAnotherCheckpoint_IsRefused()
    {
        var vkey = NoteVerifierKey.ForCosignatures("witness.example/w1", _witness.PublicKey);
        var other = SignedCheckpoint.Create(TestKeys.Checkpoint(43, "example.com/signet-log"), LogSigner);
        var misplaced = Cosigned().Note.Signatures[0];
        var note = new SignedNote(Cosigned().Note.Text, [misplaced, Cosignature.Sign("witness.example/w1", _witness, other.Note.Text, Time)]);

        var (exit, _, stderr) = _go.Check("verify-cosignature", vkey.ToString(), _go.WriteFile(note.ToString()));

        Assert.Equal(1, exit);
        Assert.Contains("invalid signature", stderr);
    }

    [Fact]
    public void GoVerify_OurVkeyForTheWrongKey_IsRefused()
    {
        using var other = TestKeys.Make(23);
        var wrong = NoteVerifierKey.ForSignatures("example.com/signet-log", other.PublicKey);

        var (exit, _, _) = _go.Check("verify", wrong.ToString(), _go.WriteFile(Cosigned().ToString()));

        Assert.Equal(1, exit);
    }

    [Fact]
    public void OurVerify_NoteSignedByGo_VerifiesWithGosVkey()
    {
        var text = "example.com/go-log\n7\n" + Convert.ToBase64String(new byte[32]) + "\n";

        var (exit, stdout, stderr) = _go.Check("sign", "example.com/go-log", _go.WriteFile(text));

        Assert.True(exit == 0, stderr);
        var newline = stdout.IndexOf('\n');
        var vkey = NoteVerifierKey.Parse(stdout[..newline]);
        var note = stdout[(newline + 1)..];
        var checkpoint = SignedCheckpoint.Parse(note);
        Assert.Equal(7, checkpoint.Verify(vkey).Checkpoint.Size);
        Assert.Equal(note, checkpoint.ToString());
        var tampered = SignedCheckpoint.Parse(note.Replace("\n7\n", "\n8\n", StringComparison.Ordinal));
        Assert.Throws<CheckpointVerificationException>(() => tampered.Verify(vkey));
    }
}
