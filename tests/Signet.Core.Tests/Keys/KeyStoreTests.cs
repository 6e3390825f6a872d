using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Signet.Keys;

namespace Signet.Core.Tests.Keys;

public sealed class KeyStoreTests : IDisposable
{
    private const string Passphrase = "correct horse battery staple";
    private readonly TempKeysDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void CreateUnencrypted_ThenLoad_ReturnsSameKeyNameAndOwner()
    {
        var store = TestStores.Fast(_dir);
        var info = store.CreateUnencrypted("agent", owner: "alice");

        using var loaded = store.Load("agent", PassphraseSource.None);

        Assert.Equal("agent", loaded.Name);
        Assert.Equal("alice", loaded.Owner);
        Assert.Equal(info.PublicKey, loaded.PublicKey);
        Assert.False(info.Encrypted);
        var signature = loaded.Key.Sign("hello"u8);
        Assert.True(info.PublicKey.Verify("hello"u8, signature));
    }

    [Fact]
    public void CreateUnencrypted_NewKey_FsyncsTheKeysDirectoryAfterTheRenames()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // NTFS journals directory entries; there is nothing to fsync
        }
        var store = TestStores.Fast(_dir);
        store.CreateUnencrypted("first");
        // The keys directory was created: its parent's entry, then the directory's own entries after both renames.
        Assert.Equal(2, store.DirectorySyncs);

        store.CreateEncrypted("second", PassphraseSource.Fixed(Passphrase));
        Assert.Equal(3, store.DirectorySyncs);
        Assert.True(File.Exists(_dir.KeyFile("second")) && File.Exists(_dir.PubFile("second")));
    }

    [Fact]
    public void CreateEncrypted_ThenLoadWithSamePassphrase_RoundTrips()
    {
        var store = TestStores.Fast(_dir);
        var info = store.CreateEncrypted("agent", PassphraseSource.Fixed(Passphrase));

        using var loaded = store.Load("agent", PassphraseSource.Fixed(Passphrase));

        Assert.True(info.Encrypted);
        Assert.Equal(info.PublicKey, loaded.PublicKey);
        Assert.Equal("", loaded.Owner);
        var text = File.ReadAllText(_dir.KeyFile("agent"));
        Assert.DoesNotContain("seed", text, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateEncrypted_DefaultStore_WritesReferenceKdfParametersAndLoads()
    {
        var store = new KeyStore(_dir.Keys);
        var info = store.CreateEncrypted("agent", PassphraseSource.Fixed(Passphrase));

        var file = JsonNode.Parse(File.ReadAllText(_dir.KeyFile("agent")))!.AsObject();
        Assert.Equal(65536, (long)file["kdf_params"]!["m"]!);
        Assert.Equal(3, (long)file["kdf_params"]!["t"]!);
        Assert.Equal(1, (long)file["kdf_params"]!["p"]!);
        using var loaded = store.Load("agent", PassphraseSource.Fixed(Passphrase));
        Assert.Equal(info.PublicKey, loaded.PublicKey);
    }

    [Fact]
    public void Create_WritesReferenceFieldsAndCreatedAtFromTimeProvider()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 13, 25, 1, TimeSpan.Zero).AddTicks(1234567));
        var store = TestStores.Fast(_dir, time);
        var info = store.CreateUnencrypted("agent", owner: "team");

        var key = JsonNode.Parse(File.ReadAllText(_dir.KeyFile("agent")))!.AsObject();
        Assert.Equal(["v", "algorithm", "name", "seed"], key.Select(p => p.Key));
        Assert.Equal(1, (int)key["v"]!);
        Assert.Equal("ed25519", (string)key["algorithm"]!);
        Assert.Equal("agent", (string)key["name"]!);
        Assert.Equal(32, Convert.FromBase64String((string)key["seed"]!).Length);

        var pub = JsonNode.Parse(File.ReadAllText(_dir.PubFile("agent")))!.AsObject();
        Assert.Equal(["v", "algorithm", "name", "pubkey", "owner", "created_at"], pub.Select(p => p.Key));
        Assert.Equal(Convert.ToBase64String(info.PublicKey.Bytes), (string)pub["pubkey"]!);
        Assert.Equal("team", (string)pub["owner"]!);
        Assert.Equal("2026-11-26T13:25:01.123456700+00:00", (string)pub["created_at"]!);
        Assert.Equal("2026-11-26T13:25:01.123456700+00:00", info.CreatedAt);
    }

    [Fact]
    public void Create_WithoutOwner_OmitsOwnerField()
    {
        TestStores.Fast(_dir).CreateUnencrypted("agent");

        var pub = JsonNode.Parse(File.ReadAllText(_dir.PubFile("agent")))!.AsObject();
        Assert.False(pub.ContainsKey("owner"));
    }

    [Fact]
    public void Create_OnUnix_FilesAre0600AndDirectoryIs0700()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        TestStores.Fast(_dir).CreateEncrypted("agent", PassphraseSource.Fixed(Passphrase));

        var fileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(fileMode, File.GetUnixFileMode(_dir.KeyFile("agent")));
        Assert.Equal(fileMode, File.GetUnixFileMode(_dir.PubFile("agent")));
        Assert.Equal(fileMode | UnixFileMode.UserExecute, File.GetUnixFileMode(_dir.Keys));
        Assert.Equal(["agent.key", "agent.pub"], Directory.GetFiles(_dir.Keys).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Create_ExistingName_IsRefusedAndLeavesFilesUnchanged()
    {
        var store = TestStores.Fast(_dir);
        store.CreateUnencrypted("agent");
        var before = File.ReadAllBytes(_dir.KeyFile("agent"));

        var e = Assert.Throws<KeyStoreException>(() => store.CreateUnencrypted("agent"));

        Assert.Contains(_dir.KeyFile("agent"), e.Message, StringComparison.Ordinal);
        Assert.Contains("already exists", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(_dir.KeyFile("agent")));
    }

    [Fact]
    public void Create_OrphanPublicKeyFile_IsRefused()
    {
        Directory.CreateDirectory(_dir.Keys);
        File.WriteAllText(_dir.PubFile("agent"), "{}");

        var e = Assert.Throws<KeyStoreException>(() => TestStores.Fast(_dir).CreateUnencrypted("agent"));

        Assert.Contains(_dir.PubFile("agent"), e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.KeyFile("agent")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("../evil")]
    [InlineData("agent\n")]
    [InlineData("ключ")]
    public void Create_InvalidName_ExplainsTheRule(string name)
    {
        var e = Assert.Throws<KeyStoreException>(() => TestStores.Fast(_dir).CreateUnencrypted(name));

        Assert.Contains("letters, digits, '_' and '-'", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir.Keys));
    }

    [Fact]
    public void CreateEncrypted_NoPassphraseAvailable_SaysWhatToSetAndCreatesNothing()
    {
        var e = Assert.Throws<KeyStoreException>(() => TestStores.Fast(_dir).CreateEncrypted("agent", PassphraseSource.None));

        Assert.Contains("SIGNET_PASSPHRASE", e.Message, StringComparison.Ordinal);
        Assert.Contains("--unencrypted", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.KeyFile("agent")));
    }

    [Fact]
    public void CreateEncrypted_EmptyPassphrase_IsRefused()
    {
        var e = Assert.Throws<KeyStoreException>(() => TestStores.Fast(_dir).CreateEncrypted("agent", PassphraseSource.Fixed("")));

        Assert.Contains("empty", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.KeyFile("agent")));
    }

    [Fact]
    public void Load_WrongPassphrase_NamesFileAndNeverShowsThePassphrase()
    {
        var store = TestStores.Fast(_dir);
        store.CreateEncrypted("agent", PassphraseSource.Fixed(Passphrase));

        var e = Assert.Throws<KeyStoreException>(() => store.Load("agent", PassphraseSource.Fixed("wrong-guess")));

        Assert.Contains(_dir.KeyFile("agent"), e.Message, StringComparison.Ordinal);
        Assert.Contains("wrong passphrase", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-guess", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Passphrase, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Load_EncryptedWithoutPassphrase_SaysToSetEnvironmentVariableOrPassphraseFile()
    {
        var store = TestStores.Fast(_dir);
        store.CreateEncrypted("agent", PassphraseSource.Fixed(Passphrase));

        var e = Assert.Throws<KeyStoreException>(() => store.Load("agent", PassphraseSource.None));

        Assert.Contains(_dir.KeyFile("agent"), e.Message, StringComparison.Ordinal);
        Assert.Contains("SIGNET_PASSPHRASE", e.Message, StringComparison.Ordinal);
        Assert.Contains("--passphrase-file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnencryptedKey_NeverAsksForPassphrase()
    {
        var store = TestStores.Fast(_dir);
        store.CreateUnencrypted("agent");
        var asked = new AskCounter();

        using var loaded = store.Load("agent", asked);

        Assert.Equal(0, asked.Count);
    }

    [Fact]
    public void Load_TruncatedFile_ReportsFileLineAndColumn()
    {
        var store = TestStores.Fast(_dir);
        store.CreateEncrypted("agent", PassphraseSource.Fixed(Passphrase));
        var bytes = File.ReadAllBytes(_dir.KeyFile("agent"));
        File.WriteAllBytes(_dir.KeyFile("agent"), bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<KeyStoreException>(() => store.Load("agent", PassphraseSource.Fixed(Passphrase)));

        Assert.StartsWith(_dir.KeyFile("agent") + ": not valid JSON at line ", e.Message, StringComparison.Ordinal);
        Assert.Contains("column", e.Message, StringComparison.Ordinal);
        Assert.Contains("restore the file from a backup", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_EmptyFile_SaysSo()
    {
        var store = TestStores.Fast(_dir);
        store.CreateUnencrypted("agent");
        File.WriteAllBytes(_dir.KeyFile("agent"), []);

        var e = Assert.Throws<KeyStoreException>(() => store.Load("agent", PassphraseSource.None));

        Assert.Contains("the file is empty", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_EditedCiphertext_FailsDecryption()
    {
        var store = TestStores.Fast(_dir);
        store.CreateEncrypted("agent", PassphraseSource.Fixed(Passphrase));
        EditJson(_dir.KeyFile("agent"), o =>
        {
            var ciphertext = Convert.FromBase64String((string)o["ciphertext"]!);
            ciphertext[0] ^= 1;
            o["ciphertext"] = Convert.ToBase64String(ciphertext);
        });

        var e = Assert.Throws<KeyStoreException>(() => store.Load("agent", PassphraseSource.Fixed(Passphrase)));

        Assert.Contains("decryption failed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RenamedKeyWithEditedName_FailsBecauseNameIsAuthenticated()
    {
        var store = TestStores.Fast(_dir);
        store.CreateEncrypted("agent", PassphraseSource.Fixed(Passphrase));
        File.Move(_dir.KeyFile("agent"), _dir.KeyFile("other"));
        File.Move(_dir.PubFile("agent"), _dir.PubFile("other"));
        EditJson(_dir.KeyFile("other"), o => o["name"] = "other");
        EditJson(_dir.PubFile("other"), o => o["name"] = "other");

        var e = Assert.Throws<KeyStoreException>(() => store.Load("other", PassphraseSource.Fixed(Passphrase)));

        Assert.Contains(_dir.KeyFile("other"), e.Message, StringComparison.Ordinal);
        Assert.Contains("decryption failed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_EditedKdfParams_FailsDecryption()
    {
        var store = TestStores.Fast(_dir);
        store.CreateEncrypted("agent", PassphraseSource.Fixed(Passphrase));
        EditJson(_dir.KeyFile("agent"), o => o["kdf_params"]!["m"] = 16);

        var e = Assert.Throws<KeyStoreException>(() => store.Load("agent", PassphraseSource.Fixed(Passphrase)));

        Assert.Contains("decryption failed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NameInFileDiffersFromFileName_SaysBoth()
    {
        var store = TestStores.Fast(_dir);
        store.CreateUnencrypted("agent");
        EditJson(_dir.KeyFile("agent"), o => o["name"] = "impostor");

        var e = Assert.Throws<KeyStoreException>(() => store.Load("agent", PassphraseSource.None));

        Assert.Contains(_dir.KeyFile("agent"), e.Message, StringComparison.Ordinal);
        Assert.Contains("\"impostor\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"agent\"", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("seed", null, "field \"seed\" is missing")]
    [InlineData("seed", "42", "field \"seed\" must be a string, not a number")]
    [InlineData("seed", "\"AAAA\"", "field \"seed\" holds 3 bytes, expected 32")]
    [InlineData("seed", "\"not base64!\"", "field \"seed\" is not valid base64")]
    [InlineData("v", "\"1\"", "field \"v\" must be an integer, not a string")]
    [InlineData("v", "2", "unsupported version v = 2")]
    [InlineData("name", null, "field \"name\" is missing")]
    [InlineData("algorithm", "\"rsa\"", "unsupported algorithm \"rsa\"")]
    public void Load_BadUnencryptedField_NamesTheField(string field, string? json, string expected)
    {
        var store = TestStores.Fast(_dir);
        store.CreateUnencrypted("agent");
        EditJson(_dir.KeyFile("agent"), o =>
        {
            o.Remove(field);
            if (json is not null)
            {
                o[field] = JsonNode.Parse(json);
            }
        });

        var e = Assert.Throws<KeyStoreException>(() => store.Load("agent", PassphraseSource.None));

        Assert.StartsWith(_dir.KeyFile("agent") + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("kdf", "\"scrypt\"", "unsupported kdf \"scrypt\"")]
    [InlineData("cipher", "\"aes256gcm\"", "unsupported cipher \"aes256gcm\"")]
    [InlineData("kdf_params", "[]", "field \"kdf_params\" must be an object")]
    [InlineData("kdf_params", "{\"m\":65536,\"t\":3}", "field \"kdf_params.p\" is missing")]
    [InlineData("kdf_params", "{\"m\":65536,\"t\":3.5,\"p\":1}", "field \"kdf_params.t\" must be an integer, not 3.5")]
    [InlineData("kdf_params", "{\"m\":65536,\"t\":3,\"p\":4}", "unsupported kdf_params.p = 4")]
    [InlineData("kdf_params", "{\"m\":99999999999,\"t\":3,\"p\":1}", "unsupported kdf_params.m = 99999999999")]
    [InlineData("nonce", "\"AAAA\"", "field \"nonce\" holds 3 bytes, expected 24")]
    [InlineData("salt", null, "field \"salt\" is missing")]
    [InlineData("ciphertext", "null", "field \"ciphertext\" is missing")]
    public void Load_BadEncryptedField_NamesTheFieldWithoutAskingForPassphrase(string field, string? json, string expected)
    {
        var store = TestStores.Fast(_dir);
        store.CreateEncrypted("agent", PassphraseSource.Fixed(Passphrase));
        EditJson(_dir.KeyFile("agent"), o =>
        {
            o.Remove(field);
            if (json is not null)
            {
                o[field] = JsonNode.Parse(json);
            }
        });
        var asked = new AskCounter();

        var e = Assert.Throws<KeyStoreException>(() => store.Load("agent", asked));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Equal(0, asked.Count);
    }

    [Fact]
    public void Load_DuplicateKeyInFile_IsRejectedWithPlace()
    {
        var store = TestStores.Fast(_dir);
        store.CreateUnencrypted("agent");
        var text = File.ReadAllText(_dir.KeyFile("agent"));
        File.WriteAllText(_dir.KeyFile("agent"), text.Replace("\"name\": \"agent\"", "\"name\": \"agent\", \"name\": \"agent\"", StringComparison.Ordinal));

        var e = Assert.Throws<KeyStoreException>(() => store.Load("agent", PassphraseSource.None));

        Assert.Contains("duplicate key \"name\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PublicKeyFileOfAnotherKey_IsReported()
    {
        var store = TestStores.Fast(_dir);
        store.CreateUnencrypted("agent");
        store.CreateUnencrypted("other");
        var otherPub = JsonNode.Parse(File.ReadAllText(_dir.PubFile("other")))!["pubkey"]!.GetValue<string>();
        EditJson(_dir.PubFile("agent"), o => o["pubkey"] = otherPub);

        var e = Assert.Throws<KeyStoreException>(() => store.Load("agent", PassphraseSource.None));

        Assert.StartsWith(_dir.PubFile("agent") + ": its public key does not match the secret key in " + _dir.KeyFile("agent"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingKey_ListsAvailableNamesAndTheCreateCommand()
    {
        var store = TestStores.Fast(_dir);
        store.CreateUnencrypted("beta");
        store.CreateUnencrypted("alpha");

        var e = Assert.Throws<KeyStoreException>(() => store.Load("gamma", PassphraseSource.None));

        Assert.Contains(_dir.KeyFile("gamma"), e.Message, StringComparison.Ordinal);
        Assert.Contains("available: alpha, beta", e.Message, StringComparison.Ordinal);
        Assert.Contains("signet key new gamma", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingKeyInEmptyHome_SaysThereAreNoKeys()
    {
        var e = Assert.Throws<KeyStoreException>(() => TestStores.Fast(_dir).Load("default", PassphraseSource.None));

        Assert.Contains("there are no keys in " + _dir.Keys, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_WithoutPublicKeyFile_ReturnsEmptyOwner()
    {
        var store = TestStores.Fast(_dir);
        var info = store.CreateUnencrypted("agent", owner: "alice");
        File.Delete(_dir.PubFile("agent"));

        using var loaded = store.Load("agent", PassphraseSource.None);

        Assert.Equal("", loaded.Owner);
        Assert.Equal(info.PublicKey, loaded.PublicKey);
    }

    [Fact]
    public void Describe_EncryptedKey_NeedsNoPassphrase()
    {
        var store = TestStores.Fast(_dir);
        var created = store.CreateEncrypted("agent", PassphraseSource.Fixed(Passphrase), owner: "ops");

        var info = store.Describe("agent");

        Assert.Equal(created, info);
    }

    [Fact]
    public void Describe_EncryptedKeyWithoutPublicKeyFile_SaysToRestoreIt()
    {
        var store = TestStores.Fast(_dir);
        store.CreateEncrypted("agent", PassphraseSource.Fixed(Passphrase));
        File.Delete(_dir.PubFile("agent"));

        var e = Assert.Throws<KeyStoreException>(() => store.Describe("agent"));

        Assert.StartsWith(_dir.PubFile("agent") + " is missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void List_ReportsEveryKeyAndTheProblemOfADamagedOne()
    {
        var store = TestStores.Fast(_dir);
        var alpha = store.CreateUnencrypted("alpha", owner: "a");
        store.CreateEncrypted("beta", PassphraseSource.Fixed(Passphrase));
        File.WriteAllText(_dir.KeyFile("broken"), "{\"v\":1,");
        File.WriteAllText(Path.Combine(_dir.Keys, "not a key.key"), "{}");

        var entries = store.List();

        Assert.Equal(["alpha", "beta", "broken"], entries.Select(e => e.Name));
        Assert.Equal(alpha, entries[0].Info);
        Assert.True(entries[1].Info!.Encrypted);
        Assert.Null(entries[2].Info);
        Assert.Contains("not valid JSON", entries[2].Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void List_NoKeysDirectory_IsEmpty()
    {
        Assert.Empty(TestStores.Fast(_dir).List());
    }

    private static void EditJson(string path, Action<JsonObject> edit)
    {
        var obj = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(obj);
        File.WriteAllText(path, obj.ToJsonString());
    }

    private sealed class AskCounter : PassphraseSource
    {
        public int Count { get; private set; }

        public override string? GetPassphrase(PassphraseRequest request)
        {
            Count++;
            return Passphrase;
        }
    }
}
