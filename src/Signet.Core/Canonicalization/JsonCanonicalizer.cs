using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;

namespace Signet.Canonicalization;

/// <summary>
/// RFC 8785 (JSON Canonicalization Scheme) with the reference Signet's number rules, so both sides hash the same bytes.
/// </summary>
/// <remarks>
/// Object members are sorted by UTF-16 code units; strings use the minimal escapes; numbers use ECMAScript formatting,
/// except integer lexemes, which follow FORMAT.md §2. Values built in code (CLR numbers and strings) are accepted as
/// well as parsed ones. Every entry point goes through one writer that works on UTF-8 JSON text: a
/// <see cref="JsonNode"/> is first written out as JSON text, then canonicalized from those bytes. Thread-safe: it
/// holds no shared state.
/// </remarks>
public static class JsonCanonicalizer
{
    /// <summary>The canonical UTF-8 bytes of a value (<c>null</c> is JSON null).</summary>
    public static byte[] Canonicalize(JsonNode? node)
    {
        var writer = Utf8CanonicalWriter.Rent();
        try
        {
            writer.Write(node);
            return writer.Written.ToArray();
        }
        finally
        {
            Utf8CanonicalWriter.Return(writer);
        }
    }

    /// <summary>The canonical text of a value.</summary>
    public static string CanonicalizeToString(JsonNode? node)
    {
        var writer = Utf8CanonicalWriter.Rent();
        try
        {
            writer.Write(node);
            return Encoding.UTF8.GetString(writer.Written);
        }
        finally
        {
            Utf8CanonicalWriter.Return(writer);
        }
    }

    /// <summary>Parses JSON text (strictly, duplicate keys rejected) and returns its canonical text.</summary>
    public static string CanonicalizeJson(ReadOnlySpan<byte> utf8Json, StrictJsonOptions? options = null)
    {
        var writer = Utf8CanonicalWriter.Rent();
        try
        {
            return Encoding.UTF8.GetString(WriteUtf8(utf8Json, writer, options));
        }
        finally
        {
            Utf8CanonicalWriter.Return(writer);
        }
    }

    /// <summary><c>"sha256:"</c> + lowercase hex of SHA-256 over the canonical bytes: Signet's content hash.</summary>
    public static string Sha256(JsonNode? node)
    {
        var writer = Utf8CanonicalWriter.Rent();
        try
        {
            writer.Write(node);
            return SignetHash.Sha256(writer.Written);
        }
        finally
        {
            Utf8CanonicalWriter.Return(writer);
        }
    }

    /// <summary>
    /// Writes the canonical form of UTF-8 JSON text straight from its bytes (no <see cref="JsonNode"/> tree)
    /// and returns how many bytes were written.
    /// </summary>
    /// <remarks>
    /// Gives the same bytes as <c>Canonicalize(StrictJson.Parse(utf8Json, options))</c> and refuses the same inputs
    /// with the same exceptions (<see cref="JsonParseException"/> for text the strict parser refuses,
    /// <see cref="CanonicalizationException"/> for values with no canonical form). Nothing is written to
    /// <paramref name="output"/> when it throws.
    /// </remarks>
    public static int Canonicalize(ReadOnlySpan<byte> utf8Json, IBufferWriter<byte> output, StrictJsonOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var writer = Utf8CanonicalWriter.Rent();
        try
        {
            var canonical = WriteUtf8(utf8Json, writer, options);
            output.Write(canonical);
            return canonical.Length;
        }
        finally
        {
            Utf8CanonicalWriter.Return(writer);
        }
    }

    /// <summary>The canonical UTF-8 bytes of UTF-8 JSON text, read straight from the bytes; same result and errors as from its parsed tree.</summary>
    public static byte[] Canonicalize(ReadOnlySpan<byte> utf8Json, StrictJsonOptions? options = null)
    {
        var writer = Utf8CanonicalWriter.Rent();
        try
        {
            return WriteUtf8(utf8Json, writer, options).ToArray();
        }
        finally
        {
            Utf8CanonicalWriter.Return(writer);
        }
    }

    /// <summary>
    /// The canonical bytes of UTF-8 JSON text in <paramref name="writer"/>. What the writer refuses in one pass is
    /// parsed strictly, which throws the parser's error (kind, line, column, path); text that parses (a repeated key
    /// under last-wins, an unsafe integer) is then canonicalized from its tree, by the same writer, which throws the
    /// canonicalization error with its path or gives the bytes of the value the parser kept.
    /// </summary>
    private static ReadOnlySpan<byte> WriteUtf8(ReadOnlySpan<byte> utf8Json, Utf8CanonicalWriter writer, StrictJsonOptions? options)
    {
        options ??= StrictJsonOptions.Default;
        if (writer.TryWriteDocument(utf8Json, options))
        {
            return writer.Written;
        }
        var node = StrictJson.Parse(utf8Json, options);
        writer.Reset();
        writer.Write(node);
        return writer.Written;
    }
}
