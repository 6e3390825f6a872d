using System.Text;
using System.Text.Json.Nodes;
using NSec.Cryptography;
using Signet.Keys;

namespace Signet.Core.Tests.Keys;

/// <summary>
/// Key files in the reference Signet's formats (FORMAT.md §7), built here by hand from the spec and not by our writer,
/// so that keys move between the reference and this implementation in both directions.
/// </summary>
public sealed class ReferenceKeyFileTests : IDisposable
{
    // The literal AAD the spec defines for a key named "agent" with the reference's parameters (JCS, keys sorted).
    private const string AgentAad =
        "{\"algorithm\":\"ed25519\",\"cipher\":\"xchacha20poly1305\",\"kdf\":\"argon2id\",\"kdf_params\":{\"m\":65536,\"p\":1,\"t\":3},\"name\":\"agent\",\"v\":1}";

    private readonly TempKeysDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (string Seed, string PublicKey) AgentKey()
    {
        var keys = SharedVectors.Load("vectors", "summary.json")["keys"]!["agent"]!;
        return ((string)keys["secret_key"]!, (string)keys["public_key"]!);
    }

    [Fact]
    public void Load_ReferenceUnencryptedKeyForAgentSeed_HasTheSummaryPublicKey()
    {
        var (seed, publicKey) = AgentKey();
        Directory.CreateDirectory(_dir.Keys);
        File.WriteAllText(_dir.KeyFile("agent"), $$"""
            {
              "v": 1,
              "algorithm": "ed25519",
              "name": "agent",
              "seed": "{{seed}}"
            }
            """);
        File.WriteAllText(_dir.PubFile("agent"), $$"""
            {
              "v": 1,
              "algorithm": "ed25519",
              "name": "agent",
              "pubkey": "{{publicKey}}",
              "owner": "interop",
              "created_at": "2026-04-27T15:13:19.599123456+00:00"
            }
            """);
        var store = new KeyStore(_dir.Keys);

        using var loaded = store.Load("agent", PassphraseSource.None);
        var info = store.Describe("agent");

        Assert.Equal("ed25519:" + publicKey, loaded.PublicKey.Text);
        Assert.Equal("interop", loaded.Owner);
        Assert.False(info.Encrypted);
        Assert.Equal("2026-04-27T15:13:19.599123456+00:00", info.CreatedAt);
    }

    [Fact]
    public void Load_ReferenceUnencryptedKeyWithoutPublicKeyFile_DerivesPublicKey()
    {
        // The reference's Claude and Codex plugins write only claude-agent.key / codex-agent.key.
        var (seed, publicKey) = AgentKey();
        Directory.CreateDirectory(_dir.Keys);
        File.WriteAllText(_dir.KeyFile("claude-agent"),
            $"{{\"v\":1,\"algorithm\":\"ed25519\",\"name\":\"claude-agent\",\"seed\":\"{seed}\"}}");

        var info = new KeyStore(_dir.Keys).Describe("claude-agent");

        Assert.Equal("ed25519:" + publicKey, info.PublicKey.Text);
        Assert.Equal("", info.Owner);
    }

    [Fact]
    public void Load_EncryptedKeyBuiltFromTheSpec_Unlocks()
    {
        var (seedText, publicKey) = AgentKey();
        var seed = Convert.FromBase64String(seedText);
        var salt = Enumerable.Range(0, 16).Select(i => (byte)(0xA0 + i)).ToArray();
        var nonce = Enumerable.Range(0, 24).Select(i => (byte)(0x10 + i)).ToArray();
        const string passphrase = "pässwörd with ünïcode";

        var kdf = PasswordBasedKeyDerivationAlgorithm.Argon2id(new Argon2Parameters { DegreeOfParallelism = 1, MemorySize = 65536, NumberOfPasses = 3 });
        var derived = kdf.DeriveBytes(Encoding.UTF8.GetBytes(passphrase), salt, 32);
        using var aeadKey = Key.Import(AeadAlgorithm.XChaCha20Poly1305, derived, KeyBlobFormat.RawSymmetricKey);
        var ciphertext = AeadAlgorithm.XChaCha20Poly1305.Encrypt(aeadKey, nonce, Encoding.UTF8.GetBytes(AgentAad), seed);

        Directory.CreateDirectory(_dir.Keys);
        File.WriteAllText(_dir.KeyFile("agent"), $$"""
            {
              "v": 1,
              "algorithm": "ed25519",
              "name": "agent",
              "kdf": "argon2id",
              "kdf_params": {
                "t": 3,
                "m": 65536,
                "p": 1
              },
              "salt": "{{Convert.ToBase64String(salt)}}",
              "cipher": "xchacha20poly1305",
              "nonce": "{{Convert.ToBase64String(nonce)}}",
              "ciphertext": "{{Convert.ToBase64String(ciphertext)}}"
            }
            """);

        using var loaded = new KeyStore(_dir.Keys).Load("agent", PassphraseSource.Fixed(passphrase));

        Assert.Equal("ed25519:" + publicKey, loaded.PublicKey.Text);
    }

    [Fact]
    public void CreateEncrypted_FileDecryptsWithTheSpecAlgorithmDoneByHand()
    {
        const string passphrase = "hunter2-but-longer";
        var info = new KeyStore(_dir.Keys, null, new CountingRandom(), TestStores.Cheap).CreateEncrypted("agent", PassphraseSource.Fixed(passphrase));
        var file = JsonNode.Parse(File.ReadAllText(_dir.KeyFile("agent")))!.AsObject();

        Assert.Equal("argon2id", (string)file["kdf"]!);
        Assert.Equal("xchacha20poly1305", (string)file["cipher"]!);
        var m = (long)file["kdf_params"]!["m"]!;
        var t = (long)file["kdf_params"]!["t"]!;
        var kdf = PasswordBasedKeyDerivationAlgorithm.Argon2id(new Argon2Parameters { DegreeOfParallelism = 1, MemorySize = m, NumberOfPasses = t });
        var derived = kdf.DeriveBytes(Encoding.UTF8.GetBytes(passphrase), Convert.FromBase64String((string)file["salt"]!), 32);
        using var aeadKey = Key.Import(AeadAlgorithm.XChaCha20Poly1305, derived, KeyBlobFormat.RawSymmetricKey);
        var aad = $"{{\"algorithm\":\"ed25519\",\"cipher\":\"xchacha20poly1305\",\"kdf\":\"argon2id\",\"kdf_params\":{{\"m\":{m},\"p\":1,\"t\":{t}}},\"name\":\"agent\",\"v\":1}}";
        var seed = AeadAlgorithm.XChaCha20Poly1305.Decrypt(aeadKey,
            Convert.FromBase64String((string)file["nonce"]!), Encoding.UTF8.GetBytes(aad), Convert.FromBase64String((string)file["ciphertext"]!));

        Assert.NotNull(seed);
        using var key = SigningKey.FromSeed(seed);
        Assert.Equal(info.PublicKey, key.PublicKey);
        Assert.Equal(Convert.ToBase64String(info.PublicKey.Bytes), (string)JsonNode.Parse(File.ReadAllText(_dir.PubFile("agent")))!["pubkey"]!);
    }
}
