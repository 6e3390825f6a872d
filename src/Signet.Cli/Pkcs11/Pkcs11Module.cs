using System.Reflection;
using System.Runtime.InteropServices;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Signet.Keys;

namespace Signet.Cli.Pkcs11;

/// <summary>
/// A loaded PKCS#11 module (the vendor's <c>.so</c>), shared by every key of the process that uses it: a module is
/// initialised once per process (<c>C_Initialize</c>), and finalised when its last user releases it.
/// </summary>
internal sealed class Pkcs11Module
{
    public const string ModuleEnvironmentVariable = "SIGNET_PKCS11_MODULE";
    public const string PinEnvironmentVariable = "SIGNET_PKCS11_PIN";

    // Mechanisms and key type of PKCS#11 3.0 that Pkcs11Interop 5.3 has no names for.
    public const ulong CkkEcEdwards = 0x40;
    public const ulong CkmEcEdwardsKeyPairGen = 0x1055;
    public const ulong CkmEdDsa = 0x1057;

    /// <summary><c>CKA_EC_PARAMS</c> for Ed25519: the DER of OID 1.3.101.112 (RFC 8410).</summary>
    public static readonly byte[] Ed25519Oid = [0x06, 0x03, 0x2B, 0x65, 0x70];

    /// <summary>The PKCS#11 3.0 alternative: the curve name as a DER PrintableString.</summary>
    private static readonly byte[] Ed25519Name = [0x13, 0x0C, .. "edwards25519"u8];

    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, Pkcs11Module> Loaded = new(StringComparer.Ordinal);

    private int _users;

    private Pkcs11Module(string path, IPkcs11Library library)
    {
        Path = path;
        Library = library;
    }

    static Pkcs11Module()
    {
        // Pkcs11Interop imports dlopen from "libdl", a name glibc 2.34+ no longer installs without its -dev package
        // (the library is libdl.so.2, and dlopen also lives in libc.so.6): point that import at what the system has.
        NativeLibrary.SetDllImportResolver(typeof(IPkcs11Library).Assembly, ResolveLibdl);
    }

    public static Pkcs11InteropFactories Factories { get; } = new();

    private static IntPtr ResolveLibdl(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != "libdl" || !OperatingSystem.IsLinux())
        {
            return IntPtr.Zero;
        }
        foreach (var candidate in new[] { "libdl.so.2", "libc.so.6", "libdl.so" })
        {
            if (NativeLibrary.TryLoad(candidate, out var handle))
            {
                return handle;
            }
        }
        return IntPtr.Zero;
    }

    public string Path { get; }

    public IPkcs11Library Library { get; }

    /// <summary>The module at <paramref name="path"/>, loaded and initialised on first use; release it with <see cref="Release"/>.</summary>
    public static Pkcs11Module Acquire(string path)
    {
        if (!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
        {
            // Pkcs11Interop marshals the module's function table and structures by reflection, which a Native AOT
            // binary has no code for (it fails with "missing structure marshalling data"): say so instead of crashing.
            throw new SignetException(
                "this signet is a Native AOT build, which cannot load PKCS#11 modules (the Pkcs11Interop binding needs the JIT); " +
                "use the framework-dependent build for PKCS#11 keys (README.md, Install: pack.sh without clang, or dotnet signet.dll)");
        }
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new SignetException(
                $"PKCS#11 module {full} does not exist: install your token's PKCS#11 module and give its path with --pkcs11-module " +
                $"or {ModuleEnvironmentVariable} (for SoftHSM2, the Debian/Ubuntu package softhsm2 installs /usr/lib/softhsm/libsofthsm2.so)");
        }
        lock (Gate)
        {
            if (!Loaded.TryGetValue(full, out var module))
            {
                IPkcs11Library library;
                try
                {
                    library = Factories.Pkcs11LibraryFactory.LoadPkcs11Library(Factories, full, AppType.MultiThreaded);
                }
                catch (Pkcs11Exception e)
                {
                    throw new SignetException(
                        $"PKCS#11 module {full} failed to initialise ({e.RV}); check its configuration (SoftHSM2 reads the file named by SOFTHSM2_CONF)", e);
                }
                catch (Exception e) when (e is UnmanagedException or LibraryArchitectureException or DllNotFoundException or BadImageFormatException)
                {
                    throw new SignetException(
                        $"{full} cannot be loaded as a PKCS#11 module ({e.Message}); give the path of the token vendor's PKCS#11 library for this platform", e);
                }
                module = new Pkcs11Module(full, library);
                Loaded.Add(full, module);
            }
            module._users++;
            return module;
        }
    }

    /// <summary>How many modules are loaded now (each is finalised when its last key is disposed).</summary>
    public static int LoadedCount
    {
        get
        {
            lock (Gate)
            {
                return Loaded.Count;
            }
        }
    }

    /// <summary>Gives the module back; the last user finalises and unloads it.</summary>
    public void Release()
    {
        lock (Gate)
        {
            if (--_users > 0)
            {
                return;
            }
            Loaded.Remove(Path);
            Library.Dispose();
        }
    }

    /// <summary>The one initialised token the URI names (by label, serial, manufacturer, model; any, when there is one).</summary>
    public (ISlot Slot, string Label) FindToken(Pkcs11Uri uri)
    {
        var tokens = new List<(ISlot Slot, ITokenInfo Info)>();
        foreach (var slot in Library.GetSlotList(SlotsType.WithTokenPresent))
        {
            var info = slot.GetTokenInfo();
            if (info.TokenFlags.TokenInitialized)
            {
                tokens.Add((slot, info));
            }
        }
        var matching = tokens.Where(t =>
            (uri.Token is null || Trim(t.Info.Label) == uri.Token)
            && (uri.Serial is null || Trim(t.Info.SerialNumber) == uri.Serial)
            && (uri.Manufacturer is null || Trim(t.Info.ManufacturerId) == uri.Manufacturer)
            && (uri.Model is null || Trim(t.Info.Model) == uri.Model)).ToList();
        if (matching.Count == 1)
        {
            return (matching[0].Slot, Trim(matching[0].Info.Label));
        }
        var present = tokens.Count == 0
            ? "none (initialise one with the vendor's tool, e.g. softhsm2-util --init-token --free --label NAME)"
            : string.Join(", ", tokens.Select(t => $"\"{Trim(t.Info.Label)}\" (serial {Trim(t.Info.SerialNumber)})"));
        if (matching.Count == 0)
        {
            var wanted = uri.Token is not null ? $"labelled \"{uri.Token}\"" : uri.Serial is not null ? $"with serial {uri.Serial}" : "matching the URI";
            throw new SignetException($"PKCS#11 module {Path} has no token {wanted}; tokens present: {present}");
        }
        throw new SignetException($"{matching.Count} tokens match {uri.Text}: {present}; add token=LABEL or serial=… to the URI");
    }

    /// <summary>Logs the application in to the token as its user, when the token requires it.</summary>
    public static void Login(ISlot slot, ISession session, string tokenLabel, PassphraseSource pin, string modulePath)
    {
        // Login is per application and token: a key of this process already logged in to it needs no PIN again.
        if (!slot.GetTokenInfo().TokenFlags.LoginRequired
            || session.GetSessionInfo().State is CKS.CKS_RO_USER_FUNCTIONS or CKS.CKS_RW_USER_FUNCTIONS)
        {
            return;
        }
        var value = pin.GetPassphrase(new PassphraseRequest(tokenLabel, modulePath, PassphrasePurpose.TokenPin))
            ?? throw new SignetException(
                $"no PIN for token \"{tokenLabel}\" and no terminal to ask for one: set {PinEnvironmentVariable} " +
                "(for an MCP client, in the server entry's \"env\") or pass --pin-file FILE");
        var pinBytes = System.Text.Encoding.UTF8.GetBytes(value);
        try
        {
            session.Login(CKU.CKU_USER, pinBytes);
        }
        catch (Pkcs11Exception e) when (e.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
        {
            // Another thread of this process logged in between the check and here.
        }
        catch (Pkcs11Exception e) when (e.RV is CKR.CKR_PIN_INCORRECT or CKR.CKR_PIN_INVALID or CKR.CKR_PIN_LEN_RANGE)
        {
            throw new SignetException(
                $"the PIN for token \"{tokenLabel}\" was refused ({e.RV}); check {PinEnvironmentVariable}, --pin-file or what was typed " +
                "(tokens lock the PIN after a few wrong tries)", e);
        }
        catch (Pkcs11Exception e) when (e.RV == CKR.CKR_PIN_LOCKED)
        {
            throw new SignetException(
                $"the PIN of token \"{tokenLabel}\" is locked after too many wrong tries; reset it with the security officer PIN (the token vendor's tool)", e);
        }
        finally
        {
            Array.Clear(pinBytes);
        }
    }

    /// <summary>True when <c>CKA_EC_PARAMS</c> names Ed25519 (by OID or by curve name).</summary>
    public static bool IsEd25519(byte[] ecParams) =>
        ecParams.AsSpan().SequenceEqual(Ed25519Oid) || ecParams.AsSpan().SequenceEqual(Ed25519Name);

    /// <summary>The 32 key bytes of <c>CKA_EC_POINT</c>: a DER OCTET STRING (SoftHSM2 and most modules) or the raw bytes.</summary>
    public static byte[]? EcPointKey(byte[] point) => point switch
    {
        { Length: 32 } => point,
        { Length: 34 } when point[0] == 0x04 && point[1] == 0x20 => point[2..],
        _ => null,
    };

    /// <summary>The key bytes as <c>CKA_EC_POINT</c>: a DER OCTET STRING, as PKCS#11 2.40 modules expect.</summary>
    public static byte[] EcPoint(PublicKey key) => [0x04, 0x20, .. key.Bytes];

    public static IObjectAttribute Attribute(CKA type, bool value) => Factories.ObjectAttributeFactory.Create(type, value);

    public static IObjectAttribute Attribute(CKA type, ulong value) => Factories.ObjectAttributeFactory.Create(type, value);

    public static IObjectAttribute Attribute(CKA type, CKO value) => Factories.ObjectAttributeFactory.Create(type, value);

    public static IObjectAttribute Attribute(CKA type, string value) => Factories.ObjectAttributeFactory.Create(type, value);

    public static IObjectAttribute Attribute(CKA type, byte[] value) => Factories.ObjectAttributeFactory.Create(type, value);

    private static string Trim(string s) => s.TrimEnd(' ', '\0');
}
