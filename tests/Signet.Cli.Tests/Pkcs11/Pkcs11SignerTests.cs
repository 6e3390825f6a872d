using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Signet.Cli.Pkcs11;
using Pkcs11Uri = Signet.Cli.Pkcs11.Pkcs11Uri;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Cli.Tests.Pkcs11;

/// <summary>PKCS#11 keys against a real SoftHSM2 token, initialised by each test in a folder of its own.</summary>
[Collection(SoftHsmCollection.Name)]
public sealed class Pkcs11SignerTests : IDisposable
{
    private readonly SoftHsm _hsm = SoftHsm.ForThisProcess("T");

    public void Dispose() => _hsm.Dispose();

    private static PassphraseSource Pin => PassphraseSource.Fixed(SoftHsm.Pin);

    /// <summary>The URI with this test's label of token T (and of "Second").</summary>
    private Pkcs11Uri Uri(string text) => Pkcs11Uri.Parse(text.Replace("token=T;", $"token={_hsm.Label("T")};", StringComparison.Ordinal));

    private string T => _hsm.Label("T");

    [Fact]
    public void Generate_ThenOpen_SignsReceiptsThatTheVerifierAccepts()
    {
        var made = Pkcs11Keys.Generate(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), Pin, RandomSource.Cryptographic);

        using var signer = Pkcs11Signer.Open(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), Pin);
        Assert.Equal(made, signer.PublicKey);
        var receipts = new ReceiptSigner(signer, "agent");
        var request = receipts.SignRequest(new ReceiptAction { Tool = "echo", Params = new System.Text.Json.Nodes.JsonObject { ["m"] = "hé" }, Target = "mcp://t", Transport = "stdio" });
        var compound = receipts.SignCompound(request, new System.Text.Json.Nodes.JsonObject { ["ok"] = true }, DateTimeOffset.UtcNow);
        foreach (var receipt in new[] { request, compound })
        {
            var result = ReceiptVerifier.Verify(receipt.ToJsonString(), new ReceiptVerificationOptions { TrustedKeys = [made] });
            Assert.True(result.IsValid && result.IsAnchored, result.Reason);
        }
    }

    [Fact]
    public void Generate_KeyInToken_IsSensitiveNonExtractableAndItsValueCannotBeRead()
    {
        Pkcs11Keys.Generate(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), Pin, RandomSource.Cryptographic);

        var attributes = PrivateKeyAttributes("agent", [CKA.CKA_SENSITIVE, CKA.CKA_EXTRACTABLE, CKA.CKA_TOKEN, CKA.CKA_VALUE]);
        Assert.True(attributes[0].GetValueAsBool());
        Assert.False(attributes[1].GetValueAsBool());
        Assert.True(attributes[2].GetValueAsBool());
        Assert.True(attributes[3].CannotBeRead);
    }

    [Fact]
    public void Import_FileKey_TokenSignsAsTheFileKeyAndDoesNotGiveTheSeedBack()
    {
        using var fileKey = SigningKey.Generate();

        var made = Pkcs11Keys.Import(SoftHsm.Module, Uri("pkcs11:token=T;object=imported;id=%a1%b2"), Pin, fileKey, RandomSource.Cryptographic);

        Assert.Equal(fileKey.PublicKey, made);
        using var signer = Pkcs11Signer.Open(SoftHsm.Module, Uri("pkcs11:token=T;id=%A1%B2"), Pin);
        var data = "signed by the token"u8;
        Assert.True(fileKey.PublicKey.Verify(data, signer.Sign(data)));
        // Ed25519 is deterministic: the token holds the very key of the file.
        Assert.Equal(fileKey.Sign(data), signer.Sign(data));
        var attributes = PrivateKeyAttributes("imported", [CKA.CKA_EXTRACTABLE, CKA.CKA_VALUE]);
        Assert.False(attributes[0].GetValueAsBool());
        Assert.True(attributes[1].CannotBeRead);
    }

    [Fact]
    public async Task Sign_ManyThreadsAtOnce_EverySignatureVerifies()
    {
        var made = Pkcs11Keys.Generate(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), Pin, RandomSource.Cryptographic);
        using var signer = Pkcs11Signer.Open(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), Pin);
        using var start = new Barrier(8);

        var failures = await Task.WhenAll(Enumerable.Range(0, 8).Select(thread => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(TimeSpan.FromSeconds(60));
            var bad = 0;
            for (var i = 0; i < 100; i++)
            {
                var data = System.Text.Encoding.UTF8.GetBytes($"thread {thread} message {i}");
                bad += made.Verify(data, signer.Sign(data)) ? 0 : 1;
            }
            return bad;
        }, TaskCreationOptions.LongRunning))).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(failures, f => Assert.Equal(0, f));
    }

    [Fact]
    public void Open_WrongPin_SaysThePinForTheTokenWasRefused()
    {
        Pkcs11Keys.Generate(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), Pin, RandomSource.Cryptographic);

        var error = Assert.Throws<SignetException>(() => Pkcs11Signer.Open(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), PassphraseSource.Fixed("wrong-pin")));

        Assert.Contains($"the PIN for token \"{T}\" was refused", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pin", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_NoPinAnywhere_SaysWhereToPutIt()
    {
        Pkcs11Keys.Generate(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), Pin, RandomSource.Cryptographic);

        var error = Assert.Throws<SignetException>(() => Pkcs11Signer.Open(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), PassphraseSource.None));

        Assert.Contains($"no PIN for token \"{T}\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("SIGNET_PKCS11_PIN", error.Message, StringComparison.Ordinal);
        Assert.Contains("--pin-file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_ModuleMissing_NamesThePathAndWhatToInstall()
    {
        var missing = Path.Combine(_hsm.Folder, "no-such-module.so");

        var error = Assert.Throws<SignetException>(() => Pkcs11Signer.Open(missing, Uri("pkcs11:token=T;object=agent"), Pin));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Contains("softhsm2", error.Message, StringComparison.Ordinal);
        Assert.Contains("--pkcs11-module", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_FileIsNotAModule_SaysItCannotBeLoaded()
    {
        var notModule = Path.Combine(_hsm.Folder, "softhsm2.conf");

        var error = Assert.Throws<SignetException>(() => Pkcs11Signer.Open(notModule, Uri("pkcs11:token=T;object=agent"), Pin));

        Assert.Contains($"{notModule} cannot be loaded as a PKCS#11 module", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_TokenNotThere_ListsTheTokensPresent()
    {
        _hsm.InitToken("Second");

        var error = Assert.Throws<SignetException>(() => Pkcs11Signer.Open(SoftHsm.Module, Uri("pkcs11:token=Other;object=agent"), Pin));

        Assert.Contains("no token labelled \"Other\"", error.Message, StringComparison.Ordinal);
        Assert.Contains($"\"{T}\" (serial ", error.Message, StringComparison.Ordinal);
        Assert.Contains($"\"{_hsm.Label("Second")}\" (serial ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_TwoTokensAndNoTokenInUri_AsksForTokenOrSerial()
    {
        _hsm.InitToken("Second");

        var error = Assert.Throws<SignetException>(() => Pkcs11Signer.Open(SoftHsm.Module, Uri("pkcs11:object=agent"), Pin));

        Assert.Matches("^[0-9]+ tokens match pkcs11:object=agent", error.Message);
        Assert.Contains("token=LABEL or serial=", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_NoKeyWithThatLabel_ListsTheKeysInTheToken()
    {
        Pkcs11Keys.Generate(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), Pin, RandomSource.Cryptographic);

        var error = Assert.Throws<SignetException>(() => Pkcs11Signer.Open(SoftHsm.Module, Uri("pkcs11:token=T;object=other"), Pin));

        Assert.Contains($"token \"{T}\" holds no private key with label \"other\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("private keys present: \"agent\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_EcdsaP256Key_SaysItIsNotEd25519()
    {
        WithSession(session =>
        {
            // An ECDSA key pair on P-256 (OID 1.2.840.10045.3.1.7), as another application would have made it.
            byte[] p256 = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
            using var mechanism = Pkcs11Module.Factories.MechanismFactory.Create(CKM.CKM_EC_KEY_PAIR_GEN);
            session.GenerateKeyPair(mechanism,
                [Pkcs11Module.Attribute(CKA.CKA_TOKEN, true), Pkcs11Module.Attribute(CKA.CKA_LABEL, "ecdsa"), Pkcs11Module.Attribute(CKA.CKA_EC_PARAMS, p256)],
                [Pkcs11Module.Attribute(CKA.CKA_TOKEN, true), Pkcs11Module.Attribute(CKA.CKA_LABEL, "ecdsa"), Pkcs11Module.Attribute(CKA.CKA_SIGN, true)],
                out _, out _);
        });

        var error = Assert.Throws<SignetException>(() => Pkcs11Signer.Open(SoftHsm.Module, Uri("pkcs11:token=T;object=ecdsa"), Pin));

        Assert.Contains("is not an Ed25519 key (its type is CKK_EC)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_PublicKeyObjectOfAnotherKey_RefusedBeforeAnySignatureIsUsed()
    {
        using var fileKey = SigningKey.Generate();
        using var other = SigningKey.Generate();
        Pkcs11Keys.Import(SoftHsm.Module, Uri("pkcs11:token=T;object=agent;id=%01"), Pin, fileKey, RandomSource.Cryptographic);
        // Replace the public key object with one that names another key.
        WithSession(session =>
        {
            session.DestroyObject(session.FindAllObjects(Pkcs11Signer.Template(CKO.CKO_PUBLIC_KEY, "agent", null)).Single());
            session.CreateObject(
            [
                Pkcs11Module.Attribute(CKA.CKA_CLASS, CKO.CKO_PUBLIC_KEY),
                Pkcs11Module.Attribute(CKA.CKA_KEY_TYPE, Pkcs11Module.CkkEcEdwards),
                Pkcs11Module.Attribute(CKA.CKA_TOKEN, true),
                Pkcs11Module.Attribute(CKA.CKA_LABEL, "agent"),
                Pkcs11Module.Attribute(CKA.CKA_ID, new byte[] { 1 }),
                Pkcs11Module.Attribute(CKA.CKA_EC_PARAMS, Pkcs11Module.Ed25519Oid),
                Pkcs11Module.Attribute(CKA.CKA_EC_POINT, Pkcs11Module.EcPoint(other.PublicKey)),
            ]);
        });

        var error = Assert.Throws<SignetException>(() => Pkcs11Signer.Open(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), Pin));

        Assert.Contains("the key pair in the token does not match", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_LabelAlreadyInTheToken_RefusedAndTheOldKeyKept()
    {
        var first = Pkcs11Keys.Generate(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), Pin, RandomSource.Cryptographic);

        var error = Assert.Throws<SignetException>(() => Pkcs11Keys.Generate(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), Pin, RandomSource.Cryptographic));

        Assert.Contains("already holds a key with label \"agent\"", error.Message, StringComparison.Ordinal);
        using var signer = Pkcs11Signer.Open(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), Pin);
        Assert.Equal(first, signer.PublicKey);
    }

    [Fact]
    public void Sign_AfterDispose_Throws()
    {
        Pkcs11Keys.Generate(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), Pin, RandomSource.Cryptographic);
        var signer = Pkcs11Signer.Open(SoftHsm.Module, Uri("pkcs11:token=T;object=agent"), Pin);

        signer.Dispose();

        Assert.Throws<ObjectDisposedException>(() => signer.Sign("x"u8));
    }

    private List<IObjectAttribute> PrivateKeyAttributes(string label, List<CKA> which)
    {
        List<IObjectAttribute> attributes = [];
        WithSession(session =>
        {
            var key = session.FindAllObjects(Pkcs11Signer.Template(CKO.CKO_PRIVATE_KEY, label, null)).Single();
            attributes = session.GetAttributeValue(key, which);
        });
        return attributes;
    }

    /// <summary>A logged-in read-write session on token T, straight through Pkcs11Interop (not through the code under test's key paths).</summary>
    private void WithSession(Action<ISession> action)
    {
        var module = Pkcs11Module.Acquire(SoftHsm.Module);
        try
        {
            var slot = module.Library.GetSlotList(SlotsType.WithTokenPresent).Single(s => s.GetTokenInfo().Label.TrimEnd() == T);
            using var session = slot.OpenSession(SessionType.ReadWrite);
            if (session.GetSessionInfo().State != CKS.CKS_RW_USER_FUNCTIONS)
            {
                session.Login(CKU.CKU_USER, SoftHsm.Pin);
            }
            action(session);
        }
        finally
        {
            module.Release();
        }
    }
}
