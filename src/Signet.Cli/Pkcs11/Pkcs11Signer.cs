using System.Collections.Concurrent;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Signet.Keys;

namespace Signet.Cli.Pkcs11;

/// <summary>
/// An Ed25519 key in a PKCS#11 token (<c>CKK_EC_EDWARDS</c>, signed with <c>CKM_EDDSA</c>). The token is opened and
/// logged in to once; signatures are made on a small pool of sessions.
/// </summary>
/// <remarks>
/// Thread-safe: a PKCS#11 session serves one operation at a time, so each signature takes a session of its own from the
/// pool (opening one when all are busy) and gives it back. One session stays open for the signer's lifetime, since the
/// login ends with an application's last session.
/// </remarks>
internal sealed class Pkcs11Signer : ISigner
{
    private readonly Pkcs11Module _module;
    private readonly ISlot _slot;
    private readonly ISession _anchor;
    private readonly IObjectHandle _key;
    private readonly IMechanism _mechanism = Pkcs11Module.Factories.MechanismFactory.Create((CKM)Pkcs11Module.CkmEdDsa);
    private readonly ConcurrentStack<ISession> _idle = new();
    private volatile bool _disposed;

    private Pkcs11Signer(Pkcs11Module module, ISlot slot, ISession anchor, IObjectHandle key, PublicKey publicKey, string description)
    {
        _module = module;
        _slot = slot;
        _anchor = anchor;
        _key = key;
        PublicKey = publicKey;
        Description = description;
    }

    public PublicKey PublicKey { get; }

    public string Description { get; }

    /// <summary>A signature is a call into the token's module (a device, or another process for network HSMs).</summary>
    public bool SignsOutOfProcess => true;

    /// <summary>
    /// Opens the key the URI names in the module at <paramref name="modulePath"/>, logging in with a PIN from
    /// <paramref name="pin"/>, and checks with one signature that it is the Ed25519 key its public key object names.
    /// </summary>
    public static Pkcs11Signer Open(string modulePath, Pkcs11Uri uri, PassphraseSource pin)
    {
        var module = Pkcs11Module.Acquire(modulePath);
        ISession? session = null;
        try
        {
            var (slot, label) = module.FindToken(uri);
            session = slot.OpenSession(SessionType.ReadOnly);
            Pkcs11Module.Login(slot, session, label, pin, module.Path);
            var (key, publicKey) = FindKeyPair(session, uri, label);
            var signer = new Pkcs11Signer(module, slot, session, key, publicKey, $"{uri.Describe()} in PKCS#11 token \"{label}\"");
            signer.SelfTest();
            return signer;
        }
        catch (Pkcs11Exception e)
        {
            session?.Dispose();
            module.Release();
            throw new SignetException($"PKCS#11 module {module.Path} failed while opening {uri.Text} ({e.RV})", e);
        }
        catch
        {
            session?.Dispose();
            module.Release();
            throw;
        }
    }

    public byte[] Sign(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var input = data.ToArray();
        ISession session;
        try
        {
            session = _idle.TryPop(out var idle) ? idle : _slot.OpenSession(SessionType.ReadOnly);
        }
        catch (Pkcs11Exception e)
        {
            throw new SignetException($"cannot open a session to sign with the {Description} ({e.RV}); is the token still present?", e);
        }
        var healthy = false;
        try
        {
            var signature = session.Sign(_mechanism, _key, input);
            healthy = signature.Length == 64;
            return healthy ? signature
                : throw new SignetException($"the {Description} returned a {signature.Length}-byte signature; an Ed25519 signature is 64 bytes");
        }
        catch (Pkcs11Exception e)
        {
            throw new SignetException($"the {Description} could not sign ({e.RV}); is the token still present and logged in?", e);
        }
        finally
        {
            if (healthy && !_disposed)
            {
                _idle.Push(session);
            }
            else
            {
                session.Dispose();
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        while (_idle.TryPop(out var session))
        {
            session.Dispose();
        }
        _anchor.Dispose();
        _mechanism.Dispose();
        _module.Release();
    }

    public override string ToString() => $"Pkcs11Signer({PublicKey})";

    /// <summary>
    /// The private key the URI names and the public key beside it (the public key object with the same <c>CKA_ID</c>,
    /// else the same label), checked to be Ed25519.
    /// </summary>
    internal static (IObjectHandle Key, PublicKey PublicKey) FindKeyPair(ISession session, Pkcs11Uri uri, string tokenLabel)
    {
        var found = session.FindAllObjects(Template(CKO.CKO_PRIVATE_KEY, uri.Object, uri.Id));
        if (found.Count == 0)
        {
            var present = session.FindAllObjects([Pkcs11Module.Attribute(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY)])
                .Select(h => session.GetAttributeValue(h, [CKA.CKA_LABEL])[0].GetValueAsString()).ToList();
            throw new SignetException(
                $"token \"{tokenLabel}\" holds no private key with {uri.Describe()}; private keys present: " +
                (present.Count == 0 ? "none" : string.Join(", ", present.Select(l => $"\"{l}\""))) +
                " (create one with: signet key new --pkcs11 URI)");
        }
        if (found.Count > 1)
        {
            throw new SignetException($"token \"{tokenLabel}\" holds {found.Count} private keys with {uri.Describe()}; add id=… to the URI to pick one");
        }
        var key = found[0];
        var attributes = session.GetAttributeValue(key, [CKA.CKA_KEY_TYPE, CKA.CKA_ID, CKA.CKA_LABEL, CKA.CKA_EC_PARAMS]);
        var keyType = attributes[0].GetValueAsUlong();
        var name = $"key {uri.Describe()} in token \"{tokenLabel}\"";
        if (keyType != Pkcs11Module.CkkEcEdwards)
        {
            var typeName = keyType <= uint.MaxValue && Enum.IsDefined((CKK)keyType) ? ((CKK)keyType).ToString() : $"0x{keyType:x}";
            throw new SignetException($"{name} is not an Ed25519 key (its type is {typeName}); Signet signs with Ed25519 keys (CKK_EC_EDWARDS)");
        }
        if (attributes[3].CannotBeRead || !Pkcs11Module.IsEd25519(attributes[3].GetValueAsByteArray()))
        {
            throw new SignetException($"{name} is an Edwards-curve key but not on Ed25519 (Ed448?); Signet signs with Ed25519 keys");
        }
        var id = attributes[1].GetValueAsByteArray() ?? [];
        var label = attributes[2].GetValueAsString();
        var publics = id.Length > 0 ? session.FindAllObjects(Template(CKO.CKO_PUBLIC_KEY, null, id)) : [];
        if (publics.Count != 1)
        {
            publics = session.FindAllObjects(Template(CKO.CKO_PUBLIC_KEY, label, null));
        }
        if (publics.Count != 1)
        {
            throw new SignetException(
                $"{name} has {(publics.Count == 0 ? "no" : "more than one")} public key object beside it (CKO_PUBLIC_KEY with the same id or label); " +
                "Signet reads the public key from it to name the key in receipts");
        }
        var point = session.GetAttributeValue(publics[0], [CKA.CKA_EC_POINT])[0];
        var bytes = point.CannotBeRead ? null : Pkcs11Module.EcPointKey(point.GetValueAsByteArray());
        if (bytes is null)
        {
            throw new SignetException($"the public key object of {name} has no Ed25519 CKA_EC_POINT (32 bytes, or a DER OCTET STRING of them)");
        }
        return (key, new PublicKey(bytes));
    }

    internal static List<IObjectAttribute> Template(CKO objectClass, string? label, byte[]? id)
    {
        var template = new List<IObjectAttribute> { Pkcs11Module.Attribute(CKA.CKA_CLASS, objectClass) };
        if (label is not null)
        {
            template.Add(Pkcs11Module.Attribute(CKA.CKA_LABEL, label));
        }
        if (id is not null)
        {
            template.Add(Pkcs11Module.Attribute(CKA.CKA_ID, id));
        }
        return template;
    }

    /// <summary>One signature, verified with the public key object's key: a private key that does not match it is refused.</summary>
    private void SelfTest()
    {
        var probe = "signet pkcs11 key check"u8;
        if (!PublicKey.Verify(probe, Sign(probe)))
        {
            throw new SignetException($"the {Description} signs, but not as its public key object says ({PublicKey}); the key pair in the token does not match");
        }
    }
}
