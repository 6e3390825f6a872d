namespace Signet.Cli.Tests.Commands;

/// <summary>Trusted-keys files of the wrong shape are refused with the file named, never with a stack trace.</summary>
public sealed class TrustedKeysFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("{\"pubkey\":42}", "\"pubkey\" must be a string")]
    [InlineData("{\"pubkey\":\"ed25519:re0crWU/9YjQYx5F7TYI2YQ+hehKw6zPEpIV2OdVWoc=\",\"status\":1}", "\"status\" must be a string")]
    [InlineData("[{\"pubkey\":null}]", "no public keys found")]
    public async Task Verify_TrustedKeysOfWrongType_ExitsOneNamingFile(string json, string expected)
    {
        var keys = _dir.File("keys.json");
        File.WriteAllText(keys, json);
        var receipt = _dir.File("r.json");
        File.WriteAllText(receipt, "{}");

        var result = await CliRunner.RunAsync(["verify", receipt, "--trusted-keys", keys]);

        Assert.Equal(1, result.ExitCode);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.Contains($"{keys}: {expected}", result.Error, StringComparison.Ordinal);
    }
}
