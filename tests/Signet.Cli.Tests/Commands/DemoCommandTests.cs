using Signet.Cli.Commands;

namespace Signet.Cli.Tests.Commands;

public sealed class DemoCommandTests
{
    [Fact]
    public async Task Demo_RealProcesses_SignsVerifiesAndCatchesTheEdit()
    {
        using var home = new TempDir();
        await using var demo = SignetProcess.Start(["demo", "--home", home.Path], new Dictionary<string, string?>());
        var output = await demo.ReadToEndAsync();
        var exit = await demo.WaitAsync();

        Assert.True(exit == 0, output + demo.Error);
        // Five calls through the proxy: a v1 and a v2 receipt each, all verified against the demo key.
        Assert.Contains("10 records, hash chain intact, 10 signatures valid", output);
        Assert.Contains("outcome failed", output);
        Assert.Contains("(3 progress notifications passed through)", output);
        Assert.Contains("line 3 (Edited)", output);

        // The closing hint names the kept home in a command that runs from here (this build is not on PATH).
        Assert.Contains($"`{SignetProcess.Executable} log verify --home {home.Path} --pubkey ed25519:", output);
        Assert.Contains($"`{SignetProcess.Executable} log show --home {home.Path}`", output);

        // The log left behind is real: the CLI verifies it too.
        var verify = await CliRunner.RunAsync(["log", "verify", "--home", home.Path]);
        Assert.Equal(0, verify.ExitCode);
        Assert.Contains("10 records", verify.Out);
    }

    [Fact]
    public void NextSteps_RunFromABuild_SaysToInstallTheToolBeforeWrap()
    {
        var hint = DemoCommand.NextSteps("dotnet run --project src/Signet.Cli --");

        Assert.Contains("dotnet tool install -g Signet.Cli", hint, StringComparison.Ordinal);
        Assert.Contains("`signet wrap CONFIG`", hint, StringComparison.Ordinal);
        Assert.DoesNotContain("dotnet run --project src/Signet.Cli -- wrap", hint, StringComparison.Ordinal);
    }

    [Fact]
    public void NextSteps_InstalledTool_OffersWrapDirectly()
    {
        var hint = DemoCommand.NextSteps("signet");

        Assert.Contains("(or let `signet wrap CONFIG` do it", hint, StringComparison.Ordinal);
        Assert.DoesNotContain("dotnet tool install", hint, StringComparison.Ordinal);
    }

    [Fact]
    public void CommandPrefix_BuildOutputOfTheSourceTree_IsDotnetRunWithTheProjectFromHere()
    {
        using var repo = new TempDir();
        var project = Path.Combine(repo.Path, "src", "Signet.Cli");
        var bin = Path.Combine(project, "bin", "Debug", "net10.0");
        Directory.CreateDirectory(bin);
        File.WriteAllText(Path.Combine(project, "Signet.Cli.csproj"), "<Project />");

        Assert.Equal("dotnet run --project src/Signet.Cli --",
            DemoCommand.CommandPrefix(bin + "/", repo.Path, Path.Combine(bin, "signet"), Path.Combine(bin, "signet.dll"), "/usr/bin"));
        Assert.Equal("dotnet run --project . --",
            DemoCommand.CommandPrefix(bin + "/", project, Path.Combine(bin, "signet"), null, "/usr/bin"));
        using var elsewhere = new TempDir();
        Assert.Equal($"dotnet run --project {project} --",
            DemoCommand.CommandPrefix(bin + "/", elsewhere.Path, Path.Combine(bin, "signet"), null, "/usr/bin"));
    }

    [Fact]
    public void CommandPrefix_InstalledToolOnPath_IsSignet()
    {
        using var tools = new TempDir();
        var shim = Path.Combine(tools.Path, "signet");
        File.WriteAllText(shim, "");
        var store = Path.Combine(tools.Path, ".store", "signet.cli", "1.0.0", "signet.cli", "1.0.0", "tools", "net10.0", "any");
        Directory.CreateDirectory(store);

        Assert.Equal("signet", DemoCommand.CommandPrefix(store + "/", tools.Path, "/usr/share/dotnet/dotnet", Path.Combine(store, "signet.dll"), tools.Path + ":/usr/bin"));
    }

    [Fact]
    public void CommandPrefix_DllRunByDotnetOutsideTheSourceTree_IsTheFullCommand()
    {
        using var dir = new TempDir();
        var dll = Path.Combine(dir.Path, "my tools", "signet.dll");

        Assert.Equal($"/usr/share/dotnet/dotnet '{dll}'",
            DemoCommand.CommandPrefix(Path.GetDirectoryName(dll) + "/", dir.Path, "/usr/share/dotnet/dotnet", dll, "/usr/bin"));
    }
}
