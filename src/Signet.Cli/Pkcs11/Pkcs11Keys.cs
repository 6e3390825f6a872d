using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Signet.Keys;

namespace Signet.Cli.Pkcs11;

/// <summary>Puts Ed25519 keys into a token: generated there, or imported from a key file. Both are non-extractable.</summary>
internal static class Pkcs11Keys
{
    /// <summary>Generates a key pair in the token (<c>CKM_EC_EDWARDS_KEY_PAIR_GEN</c>): sensitive, non-extractable, on the token.</summary>
    public static PublicKey Generate(string modulePath, Pkcs11Uri uri, PassphraseSource pin, RandomSource random) =>
        InToken(modulePath, uri, pin, random, "generate", (session, label, id) =>
        {
            var publicTemplate = new List<IObjectAttribute>
            {
                Pkcs11Module.Attribute(CKA.CKA_TOKEN, true),
                Pkcs11Module.Attribute(CKA.CKA_PRIVATE, false),
                Pkcs11Module.Attribute(CKA.CKA_VERIFY, true),
                Pkcs11Module.Attribute(CKA.CKA_LABEL, label),
                Pkcs11Module.Attribute(CKA.CKA_ID, id),
                Pkcs11Module.Attribute(CKA.CKA_EC_PARAMS, Pkcs11Module.Ed25519Oid),
            };
            using var mechanism = Pkcs11Module.Factories.MechanismFactory.Create((CKM)Pkcs11Module.CkmEcEdwardsKeyPairGen);
            try
            {
                session.GenerateKeyPair(mechanism, publicTemplate, PrivateTemplate(label, id), out _, out _);
            }
            catch (Pkcs11Exception e) when (e.RV is CKR.CKR_MECHANISM_INVALID or CKR.CKR_MECHANISM_PARAM_INVALID or CKR.CKR_CURVE_NOT_SUPPORTED
                or CKR.CKR_DOMAIN_PARAMS_INVALID or CKR.CKR_TEMPLATE_INCONSISTENT)
            {
                throw new SignetException(
                    $"the token cannot generate an Ed25519 key ({e.RV}); it needs CKM_EC_EDWARDS_KEY_PAIR_GEN (SoftHSM2 2.5 or later has it)", e);
            }
        });

    /// <summary>
    /// Creates the key of <paramref name="key"/> in the token as a sensitive, non-extractable private key object
    /// (<c>CKA_VALUE</c> = the seed) and its public key object. The key file is left as it is.
    /// </summary>
    public static PublicKey Import(string modulePath, Pkcs11Uri uri, PassphraseSource pin, SigningKey key, RandomSource random)
    {
        var made = InToken(modulePath, uri, pin, random, "import", (session, label, id) =>
        {
            var seed = new byte[32];
            var privateTemplate = PrivateTemplate(label, id);
            try
            {
                key.ExportSeed(seed);
                privateTemplate.AddRange(
                [
                    Pkcs11Module.Attribute(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY),
                    Pkcs11Module.Attribute(CKA.CKA_KEY_TYPE, Pkcs11Module.CkkEcEdwards),
                    Pkcs11Module.Attribute(CKA.CKA_EC_PARAMS, Pkcs11Module.Ed25519Oid),
                    Pkcs11Module.Attribute(CKA.CKA_VALUE, seed),
                ]);
                var privateKey = session.CreateObject(privateTemplate);
                try
                {
                    session.CreateObject(
                    [
                        Pkcs11Module.Attribute(CKA.CKA_CLASS, CKO.CKO_PUBLIC_KEY),
                        Pkcs11Module.Attribute(CKA.CKA_KEY_TYPE, Pkcs11Module.CkkEcEdwards),
                        Pkcs11Module.Attribute(CKA.CKA_TOKEN, true),
                        Pkcs11Module.Attribute(CKA.CKA_PRIVATE, false),
                        Pkcs11Module.Attribute(CKA.CKA_VERIFY, true),
                        Pkcs11Module.Attribute(CKA.CKA_LABEL, label),
                        Pkcs11Module.Attribute(CKA.CKA_ID, id),
                        Pkcs11Module.Attribute(CKA.CKA_EC_PARAMS, Pkcs11Module.Ed25519Oid),
                        Pkcs11Module.Attribute(CKA.CKA_EC_POINT, Pkcs11Module.EcPoint(key.PublicKey)),
                    ]);
                }
                catch
                {
                    session.DestroyObject(privateKey);
                    throw;
                }
            }
            finally
            {
                Array.Clear(seed);
                // The attribute objects copied the seed into unmanaged memory; disposing them frees it.
                foreach (var attribute in privateTemplate)
                {
                    attribute.Dispose();
                }
            }
        });
        if (!made.Equals(key.PublicKey))
        {
            throw new SignetException($"the token holds {made} for {uri.Text} after the import, not the file key's {key.PublicKey}");
        }
        return made;
    }

    private static List<IObjectAttribute> PrivateTemplate(string label, byte[] id) =>
    [
        Pkcs11Module.Attribute(CKA.CKA_TOKEN, true),
        Pkcs11Module.Attribute(CKA.CKA_PRIVATE, true),
        Pkcs11Module.Attribute(CKA.CKA_SENSITIVE, true),
        Pkcs11Module.Attribute(CKA.CKA_EXTRACTABLE, false),
        Pkcs11Module.Attribute(CKA.CKA_SIGN, true),
        Pkcs11Module.Attribute(CKA.CKA_LABEL, label),
        Pkcs11Module.Attribute(CKA.CKA_ID, id),
    ];

    /// <summary>
    /// The public key the URI names, read from its public key object (<c>CKA_PRIVATE</c> false, as Signet creates it)
    /// without logging in, so that showing a key needs no PIN; null when the token shows no single such object before
    /// login (then the caller opens the key with the PIN).
    /// </summary>
    public static (PublicKey Key, string Location)? ReadPublicKey(string modulePath, Pkcs11Uri uri)
    {
        var module = Pkcs11Module.Acquire(modulePath);
        try
        {
            var (slot, tokenLabel) = module.FindToken(uri);
            using var session = slot.OpenSession(SessionType.ReadOnly);
            var found = session.FindAllObjects(Pkcs11Signer.Template(CKO.CKO_PUBLIC_KEY, uri.Object, uri.Id));
            if (found.Count != 1)
            {
                return null;
            }
            var attributes = session.GetAttributeValue(found[0], [CKA.CKA_KEY_TYPE, CKA.CKA_EC_POINT]);
            if (attributes[0].CannotBeRead || attributes[0].GetValueAsUlong() != Pkcs11Module.CkkEcEdwards || attributes[1].CannotBeRead)
            {
                return null;
            }
            return Pkcs11Module.EcPointKey(attributes[1].GetValueAsByteArray()) is { } bytes
                ? (new PublicKey(bytes), $"{uri.Describe()} in PKCS#11 token \"{tokenLabel}\"")
                : null;
        }
        catch (Pkcs11Exception e)
        {
            throw new SignetException($"PKCS#11 module {module.Path} failed while reading the public key of {uri.Text} ({e.RV})", e);
        }
        finally
        {
            module.Release();
        }
    }

    /// <summary>
    /// Opens a read-write session on the token, refuses a label or id already in use, lets <paramref name="create"/> make
    /// the objects, and reads the new key back as a signer would (which checks that it signs as its public key says).
    /// </summary>
    private static PublicKey InToken(string modulePath, Pkcs11Uri uri, PassphraseSource pin, RandomSource random, string verb,
        Action<ISession, string, byte[]> create)
    {
        var label = uri.Object ?? throw new SignetException($"to {verb} a key in a token, name it: add object=LABEL to {uri.Text}");
        var id = uri.Id;
        if (id is null)
        {
            id = new byte[8];
            random.Fill(id);
        }
        var module = Pkcs11Module.Acquire(modulePath);
        try
        {
            var (slot, tokenLabel) = module.FindToken(uri);
            using (var session = slot.OpenSession(SessionType.ReadWrite))
            {
                Pkcs11Module.Login(slot, session, tokenLabel, pin, module.Path);
                if (session.FindAllObjects(Pkcs11Signer.Template(CKO.CKO_PRIVATE_KEY, label, null)).Count > 0
                    || session.FindAllObjects(Pkcs11Signer.Template(CKO.CKO_PRIVATE_KEY, null, id)).Count > 0)
                {
                    throw new SignetException(
                        $"token \"{tokenLabel}\" already holds a key with label \"{label}\" or id {Convert.ToHexStringLower(id)}; " +
                        "choose another object= (and id=), or delete the old key with the token's tool");
                }
                create(session, label, id);
                // Read back while this session keeps the login: by the label and id the key now has.
                using var signer = Pkcs11Signer.Open(module.Path, uri with { Object = label, Id = id }, pin);
                return signer.PublicKey;
            }
        }
        catch (Pkcs11Exception e)
        {
            throw new SignetException($"the token could not {verb} {uri.Text} ({e.RV})", e);
        }
        finally
        {
            module.Release();
        }
    }
}
