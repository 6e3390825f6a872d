namespace Signet.Bridge.Tests;

/// <summary>The config file, the token file and listen addresses: bad input gets an error naming the field.</summary>
public sealed class BridgeConfigTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("signet-bridge-config-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string Write(string json)
    {
        var path = Path.Combine(dir, "bridge.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Load_SeveralBackendsWithComments_EachAtItsOwnPath()
    {
        var path = Write("""
            {
              // two backends
              "listen": ["127.0.0.1:9000"],
              "backends": [
                { "name": "files", "command": "node", "args": ["fs.js", "/srv"], "env": { "A": "1" } },
                { "name": "remote", "url": "https://example.net/mcp" },
              ],
              "limits": { "maxSessions": 4, "sessionIdleTimeout": "00:05:00" }
            }
            """);
        var options = BridgeConfig.Load(path);
        Assert.Equal(["127.0.0.1:9000"], options.Listen);
        Assert.Equal(["/mcp/files", "/mcp/remote"], options.Backends.Select(b => BridgeConfig.PathOf(b, 2)));
        Assert.Equal(["fs.js", "/srv"], options.Backends[0].Args);
        Assert.Equal("1", options.Backends[0].Env["A"]);
        Assert.Equal(4, options.Limits.MaxSessions);
        Assert.Equal(TimeSpan.FromMinutes(5), options.Limits.SessionIdleTimeout);
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("\"syncResponseReceipts\": true,", true)]
    public void Load_SyncResponseReceipts_OffUnlessSet(string line, bool expected)
    {
        var path = Write($$"""
            { {{line}} "backends": [ { "name": "files", "command": "node" } ] }
            """);
        Assert.Equal(expected, BridgeConfig.Load(path).SyncResponseReceipts);
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("\"failOpen\": true,", true)]
    public void Load_FailOpen_OffUnlessSet(string line, bool expected)
    {
        var path = Write($$"""
            { {{line}} "backends": [ { "name": "files", "command": "node" } ] }
            """);
        Assert.Equal(expected, BridgeConfig.Load(path).FailOpen);
    }

    [Fact]
    public void Load_RecordingSection_SetsThePoliciesEveryBackendsRecorderIsMadeFrom()
    {
        var path = Write("""
            {
              "failOpen": true,
              "recording": { "metaKeyMode": "Both", "requireCoSignature": true, "syncResponseReceipts": true, "maxPendingCalls": 12 },
              "backends": [ { "name": "files", "command": "node" } ]
            }
            """);

        var recording = BridgeConfig.Load(path).EffectiveRecording();

        Assert.Equal(Signet.Mcp.Recording.RecordingFailureMode.FailOpen, recording.FailureMode);
        Assert.Equal(Signet.Mcp.ReceiptMetaKeyMode.Both, recording.MetaKeyMode);
        Assert.True(recording.RequireCoSignature);
        Assert.True(recording.SyncResponseReceipts);
        Assert.Equal(12, recording.MaxPendingCalls);
    }

    [Fact]
    public void Load_RecordingSectionUnknownKey_ErrorNamesIt()
    {
        var path = Write("""{ "recording": { "requireCosignatur": true }, "backends": [ { "name": "files", "command": "node" } ] }""");

        var e = Assert.ThrowsAny<Exception>(() => BridgeConfig.Load(path));

        Assert.Contains("requireCosignatur", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CliBridgeHelp_FailOpen_IsAnOptionNamedAsTheProxys()
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "signet.dll"));
        info.ArgumentList.Add("bridge");
        info.ArgumentList.Add("--help");
        using var cli = System.Diagnostics.Process.Start(info)!;
        var help = await cli.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await cli.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Contains("--fail-open", help, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownKey_ErrorNamesTheKey()
    {
        var path = Write("""{ "backends": [ { "name": "x", "comand": "node" } ] }""");
        var error = Assert.Throws<SignetException>(() => BridgeConfig.Load(path));
        Assert.Contains("comand", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BackendWithCommandAndUrl_ErrorNamesTheBackend()
    {
        var path = Write("""{ "backends": [ { "name": "both", "command": "node", "url": "http://x/mcp" } ] }""");
        var error = Assert.Throws<SignetException>(() => BridgeConfig.Load(path));
        Assert.Contains("backends[0] ('both')", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NotJson_ErrorNamesTheFile()
    {
        var path = Write("{ \"backends\": [ ");
        var error = Assert.Throws<SignetException>(() => BridgeConfig.Load(path));
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NoToken_Throws()
    {
        var options = new BridgeOptions { Backends = { new BridgeBackendOptions { Name = "a", Command = "node" } } };
        Assert.Contains("bearer token", Assert.Throws<SignetException>(() => BridgeConfig.Validate(options)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadOrCreate_NoFile_GeneratesOwnerOnlyFileOnceThenReadsIt()
    {
        var path = Path.Combine(dir, "sub", "bridge.token");
        var token = BridgeToken.LoadOrCreate(path, RandomSource.Cryptographic, out var created);
        Assert.True(created);
        Assert.Equal(43, token.Length);
        Assert.DoesNotContain('=', token);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        Assert.Equal(token, BridgeToken.LoadOrCreate(path, RandomSource.Cryptographic, out var createdAgain));
        Assert.False(createdAgain);
    }

    [Theory]
    [InlineData("127.0.0.1:8787", "127.0.0.1", 8787, false, true)]
    [InlineData("https://0.0.0.0:8443", "0.0.0.0", 8443, true, false)]
    [InlineData("[::1]:9000", "[::1]", 9000, false, true)]
    [InlineData("localhost:1", "localhost", 1, false, true)]
    public void Parse_ListenAddress_HostPortSchemeLoopback(string text, string host, int port, bool https, bool loopback)
    {
        var address = ListenAddress.Parse(text);
        Assert.Equal((host, port, https, loopback), (address.Host, address.Port, address.Https, address.IsLoopback));
    }

    [Theory]
    [InlineData("8787")]
    [InlineData("127.0.0.1:http")]
    [InlineData("127.0.0.1:70000")]
    public void Parse_BadListenAddress_Throws(string text) =>
        Assert.Contains(text, Assert.Throws<SignetException>(() => ListenAddress.Parse(text)).Message, StringComparison.Ordinal);
}
