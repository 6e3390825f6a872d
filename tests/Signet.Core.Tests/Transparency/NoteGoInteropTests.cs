using System.Diagnostics;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

/// <summary>Builds tests/interop/go/notecheck (Go's golang.org/x/mod/sumdb/note) once for the Go interop tests.</summary>
public sealed class GoNoteCheck : IDisposable
{
    private const string GoPath = "/usr/share/gocode";

    public GoNoteCheck()
    {
        Work = Path.Combine(Path.GetTempPath(), "signet-notecheck-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Work);
        var go = FindGo();
        if (go is null || !Directory.Exists(Path.Combine(GoPath, "src", "golang.org", "x", "mod", "sumdb", "note")))
        {
            Error = "Go or golang.org/x/mod is missing: install golang-go golang-golang-x-mod-dev (apt-get install golang-go golang-golang-x-mod-dev); .ci/run does";
            return;
        }
        var driver = Path.Combine(RepositoryRoot(), "tests", "interop", "go", "notecheck");
        Binary = Path.Combine(Work, "notecheck");
        var build = Run(go, ["build", "-o", Binary, "."], driver, new Dictionary<string, string>
        {
            ["GO111MODULE"] = "off",
            ["GOPATH"] = Path.Combine(Work, "gopath") + ":" + GoPath,
            ["GOCACHE"] = Path.Combine(Work, "gocache"),
            ["GOFLAGS"] = "",
        });
        if (build.ExitCode != 0)
        {
            Error = $"go build of {driver} failed ({build.ExitCode}): {build.Stderr}";
        }
    }

    public string Work { get; }

    public string? Binary { get; }

    public string? Error { get; }

    public (int ExitCode, string Stdout, string Stderr) Check(params string[] args)
    {
        Assert.True(Error is null, Error);
        return Run(Binary!, args, Work, new Dictionary<string, string>());
    }

    public string WriteFile(string content)
    {
        var path = Path.Combine(Work, Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, content, NoteText.StrictUtf8);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Work, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
            // The Go build cache marks its files read-only; the temp folder is left for the system to clean.
        }
    }

    private static string? FindGo()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, "go");
            if (dir.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Signet.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Signet.sln not found: run the tests from a checkout of the repository");
    }

    private static (int ExitCode, string Stdout, string Stderr) Run(string file, string[] args, string directory, Dictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = NoteText.StrictUtf8,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 60 s");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
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
