using System.Diagnostics;
using Signet.Cli.Pkcs11;

namespace Signet.Cli.Tests.Pkcs11;

/// <summary>
/// The tests that load a PKCS#11 module in this process. SoftHSM2 reads its configuration (<c>SOFTHSM2_CONF</c>) once per
/// process, so these tests share one token folder (<see cref="SoftHsm.ForThisProcess"/>), each with tokens of its own
/// (unique labels, deleted at the end), and run one at a time, so that the module is finalised between tests (each
/// must dispose every key it opened: <see cref="SoftHsm.Dispose"/> checks it) and rescans the tokens when it starts again.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoftHsmCollection
{
    public const string Name = "SoftHSM2";
}

/// <summary>
/// A SoftHSM2 token folder with its <c>softhsm2.conf</c>, and the tokens one test initialised there with <c>softhsm2-util</c>
/// (labels made unique per test: <see cref="Label"/>).
/// </summary>
internal sealed class SoftHsm : IDisposable
{
    /// <summary>The user PIN of every token: distinctive, so a test can search output and environments for it.</summary>
    public const string Pin = "pin-3c9e71d2";

    public const string SoPin = "so-pin-5678";

    private static readonly string[] ModuleCandidates =
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/local/lib/softhsm/libsofthsm2.so",
    ];

    private static readonly Lazy<TempDir> ProcessFolder = new(() =>
    {
        var dir = new TempDir();
        WriteConfig(dir);
        // The module reads the C environment: Environment.SetEnvironmentVariable changes only .NET's copy on Unix.
        Assert.Equal(0, setenv("SOFTHSM2_CONF", dir.File("softhsm2.conf"), 1));
        System.Environment.SetEnvironmentVariable("SOFTHSM2_CONF", dir.File("softhsm2.conf"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => dir.Dispose();
        return dir;
    });

    private readonly TempDir _dir;
    private readonly bool _processWide;
    private readonly string _suffix = "-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<string> _tokens = [];

    private SoftHsm(bool processWide)
    {
        _processWide = processWide;
        if (processWide)
        {
            _dir = ProcessFolder.Value;
        }
        else
        {
            _dir = new TempDir();
            WriteConfig(_dir);
        }
        ConfigFile = _dir.File("softhsm2.conf");
    }

    [System.Runtime.InteropServices.DllImport("libc", CharSet = System.Runtime.InteropServices.CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);

    /// <summary>The label this test's token <paramref name="name"/> has in the folder (unique per test).</summary>
    public string Label(string name) => _processWide ? name + _suffix : name;

    private static void WriteConfig(TempDir dir)
    {
        Directory.CreateDirectory(dir.File("tokens"));
        File.WriteAllText(dir.File("softhsm2.conf"), $"directories.tokendir = {dir.File("tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n");
    }

    /// <summary>The SoftHSM2 module; a missing one fails the test with what to install.</summary>
    public static string Module => ModuleCandidates.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException(
            $"SoftHSM2 is not installed (no libsofthsm2.so in {string.Join(", ", ModuleCandidates)}): install the Debian/Ubuntu package softhsm2 " +
            "(apt-get install softhsm2); the PKCS#11 tests run against it");

    public string ConfigFile { get; }

    public string Folder => _dir.Path;

    /// <summary>The variables a <c>signet</c> process needs to use these tokens (module, PIN, SoftHSM2's config).</summary>
    public Dictionary<string, string?> Variables() => new()
    {
        ["SOFTHSM2_CONF"] = ConfigFile,
        [Pkcs11Module.ModuleEnvironmentVariable] = Module,
        [Pkcs11Module.PinEnvironmentVariable] = Pin,
    };

    /// <summary>Tokens in the folder this process's module reads (<c>SOFTHSM2_CONF</c> is set here): for in-process tests in <see cref="SoftHsmCollection"/>.</summary>
    public static SoftHsm ForThisProcess(params string[] tokens) => Create(processWide: true, tokens);

    /// <summary>A token folder of its own for <c>signet</c> child processes (pass <see cref="Variables"/> to them).</summary>
    public static SoftHsm ForChildProcesses(params string[] tokens) => Create(processWide: false, tokens);

    private static SoftHsm Create(bool processWide, string[] tokens)
    {
        _ = Module;
        var hsm = new SoftHsm(processWide);
        try
        {
            foreach (var name in tokens)
            {
                hsm.InitToken(name);
            }
            return hsm;
        }
        catch
        {
            hsm.Dispose();
            throw;
        }
    }

    /// <summary>Initialises a token in the first free slot with <c>softhsm2-util</c>, as a user would; returns its label.</summary>
    public string InitToken(string name)
    {
        var label = Label(name);
        RunUtil("--init-token", "--free", "--label", label, "--pin", Pin, "--so-pin", SoPin);
        _tokens.Add(label);
        return label;
    }

    private void RunUtil(params string[] args)
    {
        var info = new ProcessStartInfo("softhsm2-util")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["SOFTHSM2_CONF"] = ConfigFile;
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("softhsm2-util is not on PATH: install the Debian/Ubuntu package softhsm2 (apt-get install softhsm2)", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(60_000))
            {
                process.Kill();
                throw new TimeoutException($"softhsm2-util {args[0]} did not finish in 60 s");
            }
            Assert.True(process.ExitCode == 0, $"softhsm2-util {args[0]} failed ({process.ExitCode}): {stdout.Result}{stderr.Result}");
        }
    }

    public void Dispose()
    {
        if (!_processWide)
        {
            _dir.Dispose();
            return;
        }
        foreach (var label in _tokens)
        {
            RunUtil("--delete-token", "--token", label);
        }
        // A key left open would keep the module initialised, and the next test's tokens unseen.
        Assert.Equal(0, Pkcs11Module.LoadedCount);
    }
}
