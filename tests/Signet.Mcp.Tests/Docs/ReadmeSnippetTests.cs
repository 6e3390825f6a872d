using System.Diagnostics;
using System.Text.RegularExpressions;
using Signet.Audit;
using Signet.Keys;
using Signet.Mcp.Tests.Interop;

namespace Signet.Mcp.Tests.Docs;

/// <summary>Builds one program with <c>dotnet build</c>: kept out of the parallel runs of the other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StandaloneBuildCollection
{
    public const string Name = "standalone build";
}

/// <summary>
/// The README's C# snippet, pasted as it is into a new console project that references the libraries of this checkout,
/// builds and runs against a real MCP server (server-filesystem from the npm peers).
/// </summary>
[Collection(StandaloneBuildCollection.Name)]
public sealed partial class ReadmeSnippetTests : IDisposable
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    private readonly string _root = Directory.CreateTempSubdirectory("signet-readme-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Readme_CSharpSnippet_BuildsInANewConsoleProjectAndRunsAgainstARealServer()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // the stand-in npx below is a shell script
        }
        var repo = NpmPeers.RepoRoot;
        var snippet = Snippet(File.ReadAllText(Path.Combine(repo, "README.md")));
        var project = Path.Combine(_root, "snippet");
        Directory.CreateDirectory(project);
        // Stop MSBuild's search for Directory.Build.props / Directory.Packages.props here: the project is set up as
        // a user's would be, not by this repository's build settings.
        File.WriteAllText(Path.Combine(_root, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(_root, "Directory.Packages.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(project, "Snippet.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{Path.Combine(repo, "src", "Signet.Core", "Signet.Core.csproj")}" />
                <ProjectReference Include="{Path.Combine(repo, "src", "Signet.Mcp", "Signet.Mcp.csproj")}" />
                <PackageReference Include="ModelContextProtocol" Version="{SdkVersion(repo)}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project, "Program.cs"), snippet);

        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            ? "Release" : "Debug";
        var build = await RunAsync("dotnet", ["build", project, "-c", configuration, "-nologo", "-v", "quiet"], _root, new(), BuildTimeout);
        Assert.True(build.Code == 0, $"the README snippet does not build:\n{build.Out}\n{build.Error}");
        var program = Path.Combine(project, "bin", configuration, "net10.0", "Snippet.dll");

        // The snippet starts `npx -y @modelcontextprotocol/server-filesystem .`; this npx runs the pinned copy instead
        // of downloading one.
        var bin = Path.Combine(_root, "bin");
        Directory.CreateDirectory(bin);
        var npx = Path.Combine(bin, "npx");
        File.WriteAllText(npx, $"""
            #!/bin/sh
            if [ "$1" != "-y" ] || [ "$2" != "@modelcontextprotocol/server-filesystem" ]; then echo "npx stand-in: unexpected $*" >&2; exit 2; fi
            shift 2
            exec '{NpmPeers.Node}' '{NpmPeers.ServerFilesystem}' "$@"
            """ + "\n");
        File.SetUnixFileMode(npx, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var work = Path.Combine(_root, "work");
        Directory.CreateDirectory(work);
        File.WriteAllText(Path.Combine(work, "hello.txt"), "hi");
        var home = Path.Combine(_root, "home");
        var env = new Dictionary<string, string>
        {
            ["SIGNET_HOME"] = home,
            ["PATH"] = bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"),
        };

        var missing = await RunAsync("dotnet", [program], work, env, RunTimeout);

        Assert.NotEqual(0, missing.Code);
        Assert.Contains($"key \"my-agent\" not found ({Path.Combine(home, "keys", "my-agent.key")} does not exist", missing.Error, StringComparison.Ordinal);
        Assert.Contains("create it with 'signet key new my-agent'", missing.Error, StringComparison.Ordinal);

        KeyStore.ForHome(home).CreateUnencrypted("my-agent");
        var run = await RunAsync("dotnet", [program], work, env, RunTimeout);

        Assert.True(run.Code == 0, $"the README snippet failed:\n{run.Out}\n{run.Error}");
        Assert.Contains("[FILE] hello.txt", run.Out, StringComparison.Ordinal);
        Assert.Matches($"receipt rec_[0-9a-f]{{32}} \\(Request\\) appended to {Regex.Escape(SignetHome.AuditDirectory(home))}", run.Out);
        var verified = AuditVerifier.Verify(SignetHome.AuditDirectory(home), new AuditVerifyOptions { VerifySignatures = true });
        Assert.True(verified.IsValid, verified.Break?.Message);
        Assert.Equal(2, verified.RecordCount); // the request receipt and the response receipt
    }

    [Fact]
    public void Snippet_Readme_IsAWholeProgramWithItsUsings()
    {
        var snippet = Snippet(File.ReadAllText(Path.Combine(NpmPeers.RepoRoot, "README.md")));

        Assert.StartsWith("using ModelContextProtocol.Client;\n", snippet, StringComparison.Ordinal);
        Assert.Contains("using Signet.Mcp.Client;\n", snippet, StringComparison.Ordinal);
    }

    [Fact]
    public void LibraryDoc_ReferenceSection_SaysToReferenceThePackedPackagesOrTheProjectsOfACheckout()
    {
        var doc = File.ReadAllText(Path.Combine(NpmPeers.RepoRoot, "docs", "library.md")).ReplaceLineEndings("\n");

        Assert.Contains("## Reference the libraries\n\nThe packages are not published yet.", doc, StringComparison.Ordinal);
        Assert.Contains("<PackageReference Include=\"Signet.Mcp\" Version=\"0.1.0\" />", doc, StringComparison.Ordinal);
        Assert.Contains("src/Signet.Core/Signet.Core.csproj\" />", doc, StringComparison.Ordinal);
        Assert.Contains("src/Signet.Mcp/Signet.Mcp.csproj\" />", doc, StringComparison.Ordinal);
        Assert.Contains("(docs/library.md#reference-the-libraries)", File.ReadAllText(Path.Combine(NpmPeers.RepoRoot, "README.md")), StringComparison.Ordinal);
    }

    /// <summary>The first C# block of the README.</summary>
    private static string Snippet(string readme)
    {
        var match = CSharpBlock().Match(readme.ReplaceLineEndings("\n"));
        Assert.True(match.Success, "README.md has no ```csharp block");
        return match.Groups[1].Value;
    }

    private static string SdkVersion(string repo)
    {
        var match = Regex.Match(File.ReadAllText(Path.Combine(repo, "Directory.Packages.props")),
            "<PackageVersion Include=\"ModelContextProtocol\" Version=\"([^\"]+)\"");
        Assert.True(match.Success, "Directory.Packages.props has no ModelContextProtocol version");
        return match.Groups[1].Value;
    }

    private static async Task<(int Code, string Out, string Error)> RunAsync(string file, string[] args, string directory,
        Dictionary<string, string> env, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("SIGNET_", StringComparison.Ordinal)).ToArray())
        {
            start.Environment.Remove(name);
        }
        foreach (var (name, value) in env)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            var output = process.StandardOutput.ReadToEndAsync(cancel.Token);
            var error = process.StandardError.ReadToEndAsync(cancel.Token);
            await process.WaitForExitAsync(cancel.Token);
            return (process.ExitCode, await output, await error);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s");
        }
    }

    [GeneratedRegex("```csharp\n(.*?)```\n", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
