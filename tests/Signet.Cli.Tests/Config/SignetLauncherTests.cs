using Signet.Cli.Config;

namespace Signet.Cli.Tests.Config;

public sealed class SignetLauncherTests
{
    [Fact]
    public void Resolve_InstalledToolOnPath_UsesItsAbsolutePath()
    {
        using var dir = new TempDirectory();
        var tools = dir.File("tools");
        var shim = dir.Write("tools/signet", []);
        Directory.CreateDirectory(Path.Combine(tools, ".store", "signet.cli"));
        var path = string.Join(Path.PathSeparator, dir.File("empty"), tools);

        var launcher = SignetLauncher.Resolve(null, path, "/usr/share/dotnet/dotnet", "/x/signet.dll");

        Assert.Equal(shim, launcher.Command);
        Assert.Empty(launcher.PrefixArguments);
    }

    [Fact]
    public void Resolve_OtherSignetOnPath_IsIgnoredForTheRunningApphost()
    {
        using var dir = new TempDirectory();
        dir.Write("bin/signet", []);

        var launcher = SignetLauncher.Resolve(null, dir.File("bin"), "/opt/signet/signet", "/opt/signet/signet.dll");

        Assert.Equal("/opt/signet/signet", launcher.Command);
    }

    [Fact]
    public void Resolve_RunByDotnetHost_WritesHostAndDllPath()
    {
        var launcher = SignetLauncher.Resolve(null, "", "/usr/share/dotnet/dotnet", "/opt/signet/signet.dll");

        Assert.Equal("/usr/share/dotnet/dotnet", launcher.Command);
        Assert.Equal(["/opt/signet/signet.dll"], launcher.PrefixArguments);
    }

    [Fact]
    public void Resolve_NativeToolRunningFromItsStore_WritesTheShimNotTheVersionedPath()
    {
        using var dir = new TempDirectory();
        var shim = dir.Write("tools/signet", []);
        var binary = dir.Write("tools/.store/signet.cli/0.1.0/signet.cli/0.1.0/tools/net10.0/linux-x64/signet", []);
        dir.Write("bin/signet", []);

        var launcher = SignetLauncher.Resolve(null, dir.File("bin"), binary, null);

        Assert.Equal(shim, launcher.Command);
        Assert.Empty(launcher.PrefixArguments);
    }

    [Fact]
    public void Resolve_FrameworkDependentToolDllInItsStore_WritesTheShim()
    {
        using var dir = new TempDirectory();
        var shim = dir.Write("custom-tools/signet", []);
        var dll = dir.Write("custom-tools/.store/signet.cli/0.2.0/signet.cli/0.2.0/tools/net10.0/any/signet.dll", []);

        var launcher = SignetLauncher.Resolve(null, "", "/usr/share/dotnet/dotnet", dll);

        Assert.Equal(shim, launcher.Command);
        Assert.Empty(launcher.PrefixArguments);
    }

    [Theory]
    [InlineData("signet", null)]
    [InlineData("dotnet", "signet.dll")]
    public void Resolve_BuildOutputOfDotnetRun_FailsWithInstallAdvice(string program, string? dll)
    {
        using var dir = new TempDirectory();
        dir.Write("src/Signet.Cli/Signet.Cli.csproj", []);
        var output = dir.File("src", "Signet.Cli", "bin", "Debug", "net10.0");
        var processPath = program == "signet" ? dir.Write("src/Signet.Cli/bin/Debug/net10.0/signet", []) : "/usr/share/dotnet/dotnet";
        var entry = dll is null ? null : Path.Combine(output, dll);

        var e = Assert.Throws<McpConfigException>(() => SignetLauncher.ResolveForConfig(null, "", processPath, entry));
        var running = SignetLauncher.Resolve(null, "", processPath, entry);

        Assert.Equal(processPath, running.Command); // what starts signet now (signet demo) is the build itself
        Assert.Contains("bash pack.sh && dotnet tool install -g Signet.Cli --add-source out/tool", e.Message, StringComparison.Ordinal);
        Assert.Contains("--signet-command", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_BuildOutputWithToolOnPath_UsesTheTool()
    {
        using var dir = new TempDirectory();
        dir.Write("src/Signet.Cli/Signet.Cli.csproj", []);
        var apphost = dir.Write("src/Signet.Cli/bin/Debug/net10.0/signet", []);
        var shim = dir.Write("tools/signet", []);
        Directory.CreateDirectory(dir.File("tools", ".store", "signet.cli"));

        var launcher = SignetLauncher.ResolveForConfig(null, dir.File("tools"), apphost, null);

        Assert.Equal(shim, launcher.Command);
    }

    [Fact]
    public void Resolve_ExplicitPathIntoBuildOutput_IsWrittenAsGiven()
    {
        using var dir = new TempDirectory();
        dir.Write("src/Signet.Cli/Signet.Cli.csproj", []);
        var apphost = dir.Write("src/Signet.Cli/bin/Debug/net10.0/signet", []);

        var launcher = SignetLauncher.ResolveForConfig(apphost, "", apphost, null);

        Assert.Equal(apphost, launcher.Command);
    }

    [Fact]
    public void Resolve_UnknownHost_FailsWithAdvice()
    {
        var e = Assert.Throws<McpConfigException>(() => SignetLauncher.Resolve(null, "", "/usr/bin/testhost", "/x/testhost.dll"));

        Assert.Contains("--signet-command", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_ExplicitDll_RunsItWithTheDotnetHost()
    {
        var launcher = SignetLauncher.Resolve("/opt/signet/signet.dll", "", "/usr/lib/dotnet/dotnet", null);

        Assert.Equal("/usr/lib/dotnet/dotnet", launcher.Command);
        Assert.Equal(["/opt/signet/signet.dll"], launcher.PrefixArguments);
    }

    [Fact]
    public void Resolve_ExplicitBareNameNotOnPath_Fails()
    {
        var e = Assert.Throws<McpConfigException>(() => SignetLauncher.Resolve("signet", "", null, null));

        Assert.Contains("not on PATH", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/opt/signet", new[] { "proxy", "--", "x" }, true, 0)]
    [InlineData("C:\\Tools\\signet.exe", new[] { "proxy", "--url", "u" }, true, 0)]
    [InlineData("dotnet", new[] { "/opt/signet/signet.dll", "proxy", "--", "x" }, true, 1)]
    [InlineData("/usr/bin/dotnet", new[] { "/opt/other.dll", "proxy", "--", "x" }, false, -1)]
    [InlineData("/opt/signet", new[] { "verify", "f" }, false, 0)]
    [InlineData("npx", new[] { "proxy" }, false, -1)]
    public void IsProxyInvocation_Forms_AreRecognized(string command, string[] args, bool expected, int index)
    {
        Assert.Equal(expected, SignetLauncher.IsProxyInvocation(command, args, out var proxyIndex));
        Assert.Equal(index, proxyIndex);
    }
}
