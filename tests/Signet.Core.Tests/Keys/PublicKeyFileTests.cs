using Signet.Keys;

namespace Signet.Core.Tests.Keys;

public sealed class PublicKeyFileTests : IDisposable
{
    private readonly TempKeysDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Read_ReferencePubFile_ReturnsKeyNameAndOwner()
    {
        Directory.CreateDirectory(_dir.Home);
        var path = Path.Combine(_dir.Home, "peer.pub");
        File.WriteAllText(path,
            "{\"v\":1,\"algorithm\":\"ed25519\",\"name\":\"peer\",\"pubkey\":\"re0crWU/9YjQYx5F7TYI2YQ+hehKw6zPEpIV2OdVWoc=\",\"created_at\":\"2026-01-01T00:00:00+00:00\"}");

        var file = PublicKeyFile.Read(path);

        Assert.Equal("peer", file.Name);
        Assert.Equal("ed25519:re0crWU/9YjQYx5F7TYI2YQ+hehKw6zPEpIV2OdVWoc=", file.PublicKey.Text);
        Assert.Equal("", file.Owner);
    }

    [Fact]
    public void Read_BadPubkey_NamesFileAndField()
    {
        Directory.CreateDirectory(_dir.Home);
        var path = Path.Combine(_dir.Home, "peer.pub");
        File.WriteAllText(path, "{\"v\":1,\"algorithm\":\"ed25519\",\"name\":\"peer\",\"pubkey\":\"short\"}");

        var e = Assert.Throws<KeyStoreException>(() => PublicKeyFile.Read(path));

        Assert.StartsWith(path + ": field \"pubkey\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MissingFile_SaysSo()
    {
        var path = Path.Combine(_dir.Home, "nope.pub");

        var e = Assert.Throws<KeyStoreException>(() => PublicKeyFile.Read(path));

        Assert.StartsWith("cannot read public key file " + path, e.Message, StringComparison.Ordinal);
    }
}
