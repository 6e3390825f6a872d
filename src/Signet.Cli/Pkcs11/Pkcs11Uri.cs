using System.Text;

namespace Signet.Cli.Pkcs11;

/// <summary>
/// A key named by an RFC 7512 PKCS#11 URI: <c>pkcs11:token=…;object=…;id=…</c>, values percent-decoded. The path
/// attributes <c>token</c>, <c>serial</c>, <c>manufacturer</c>, <c>model</c>, <c>object</c>, <c>id</c> and <c>type</c>
/// are understood, and the query attributes <c>module-path</c> and <c>pin-source</c>; any other attribute is refused,
/// since ignoring it could select another key than the one meant.
/// </summary>
internal sealed record Pkcs11Uri
{
    public const string Scheme = "pkcs11:";

    public string? Token { get; init; }

    public string? Serial { get; init; }

    public string? Manufacturer { get; init; }

    public string? Model { get; init; }

    /// <summary>The key's label (<c>CKA_LABEL</c>).</summary>
    public string? Object { get; init; }

    /// <summary>The key's <c>CKA_ID</c>, raw bytes.</summary>
    public byte[]? Id { get; init; }

    public string? ModulePath { get; init; }

    /// <summary>A file holding the PIN on its first line (<c>pin-source=/path</c> or <c>file:///path</c>).</summary>
    public string? PinSource { get; init; }

    /// <summary>The URI as given (it holds no secret: <c>pin-value</c> is refused).</summary>
    public required string Text { get; init; }

    /// <summary>The name receipts carry as <c>signer.name</c>: the object label, else the token label.</summary>
    public string SignerName => Object ?? Token ?? "pkcs11";

    /// <summary>How the key is named in messages: token and label or id.</summary>
    public string Describe() => (Object, Id) switch
    {
        ({ } label, null) => $"label \"{label}\"",
        (null, { } id) => $"id {Convert.ToHexStringLower(id)}",
        _ => $"label \"{Object}\" and id {Convert.ToHexStringLower(Id!)}",
    };

    public static bool IsUri(string? text) => text is not null && text.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses the URI; a malformed or unsupported one is a <see cref="FormatException"/> saying which part.</summary>
    public static Pkcs11Uri Parse(string text)
    {
        if (!IsUri(text))
        {
            throw new FormatException($"\"{text}\" is not a PKCS#11 URI: it starts with pkcs11:");
        }
        var rest = text[Scheme.Length..];
        var question = rest.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? rest : rest[..question];
        var query = question < 0 ? "" : rest[(question + 1)..];
        // First, so that no other message quotes a URI that holds a PIN.
        if (query.Split('&').Any(a => a.StartsWith("pin-value=", StringComparison.Ordinal)))
        {
            throw new FormatException(
                "a PKCS#11 URI must not carry the PIN (pin-value would sit in the command line and in configs): " +
                "set SIGNET_PKCS11_PIN, pass --pin-file FILE, or use pin-source=FILE");
        }
        var uri = new Pkcs11Uri { Text = text };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, raw) in Attributes(path, ';', text))
        {
            if (!seen.Add(name))
            {
                throw new FormatException($"PKCS#11 URI {text}: attribute \"{name}\" is given twice");
            }
            uri = name switch
            {
                "token" => uri with { Token = Value(raw, name, text) },
                "serial" => uri with { Serial = Value(raw, name, text) },
                "manufacturer" => uri with { Manufacturer = Value(raw, name, text) },
                "model" => uri with { Model = Value(raw, name, text) },
                "object" => uri with { Object = Value(raw, name, text) },
                "id" => uri with { Id = Decode(raw, name, text) },
                "type" => Value(raw, name, text) is "private" or "public" ? uri
                    : throw new FormatException($"PKCS#11 URI {text}: type=\"{raw}\" names no signing key; use type=private or leave it out"),
                _ => throw new FormatException(
                    $"PKCS#11 URI {text}: path attribute \"{name}\" is not supported (supported: token, serial, manufacturer, model, object, id, type)"),
            };
        }
        foreach (var (name, raw) in Attributes(query, '&', text))
        {
            if (!seen.Add(name))
            {
                throw new FormatException($"PKCS#11 URI {text}: attribute \"{name}\" is given twice");
            }
            uri = name switch
            {
                "module-path" => uri with { ModulePath = Value(raw, name, text) },
                "pin-source" => uri with { PinSource = PinFile(Value(raw, name, text), text) },
                _ => throw new FormatException(
                    $"PKCS#11 URI {text}: query attribute \"{name}\" is not supported (supported: module-path, pin-source)"),
            };
        }
        if (uri.Object is null && uri.Id is null)
        {
            throw new FormatException($"PKCS#11 URI {text} names no key: add object=LABEL (or id=%01%02…)");
        }
        return uri;
    }

    private static IEnumerable<(string Name, string Value)> Attributes(string part, char separator, string text)
    {
        if (part.Length == 0)
        {
            yield break;
        }
        foreach (var attribute in part.Split(separator))
        {
            var equals = attribute.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException($"PKCS#11 URI {text}: \"{attribute}\" is not NAME=VALUE");
            }
            yield return (attribute[..equals], attribute[(equals + 1)..]);
        }
    }

    private static string Value(string raw, string name, string uri)
    {
        var bytes = Decode(raw, name, uri);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException($"PKCS#11 URI {uri}: {name} is not UTF-8 once percent-decoded");
        }
    }

    /// <summary>Percent-decoding to bytes (RFC 3986): <c>%41</c> is one byte, everything else stands for its UTF-8.</summary>
    private static byte[] Decode(string raw, string name, string uri)
    {
        var output = new List<byte>(raw.Length);
        var plain = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != '%')
            {
                plain++;
                continue;
            }
            // A run of unescaped characters is encoded whole, so a surrogate pair stays one character.
            output.AddRange(Encoding.UTF8.GetBytes(raw.Substring(i - plain, plain)));
            plain = 0;
            if (i + 2 >= raw.Length || !Uri.IsHexDigit(raw[i + 1]) || !Uri.IsHexDigit(raw[i + 2]))
            {
                throw new FormatException($"PKCS#11 URI {uri}: {name} has a '%' that is not followed by two hex digits");
            }
            output.Add(Convert.ToByte(raw.Substring(i + 1, 2), 16));
            i += 2;
        }
        output.AddRange(Encoding.UTF8.GetBytes(raw[^plain..]));
        return [.. output];
    }

    private static string PinFile(string value, string uri)
    {
        if (value.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var file) || !file.IsFile)
            {
                throw new FormatException($"PKCS#11 URI {uri}: pin-source \"{value}\" is not a file URI");
            }
            return file.LocalPath;
        }
        if (value.Contains(':', StringComparison.Ordinal) && !Path.IsPathRooted(value))
        {
            throw new FormatException($"PKCS#11 URI {uri}: pin-source \"{value}\" is not a file (only files are supported)");
        }
        return value;
    }
}
