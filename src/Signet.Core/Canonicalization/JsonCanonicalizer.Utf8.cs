using System.Buffers;

namespace Signet.Canonicalization;

public static partial class JsonCanonicalizer
{
    /// <summary>
    /// Writes the canonical form of UTF-8 JSON text straight from its bytes (no <see cref="System.Text.Json.Nodes.JsonNode"/> tree)
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

    /// <summary>The canonical UTF-8 bytes of UTF-8 JSON text, read straight from the bytes; same result and errors as the tree path.</summary>
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

    /// <summary>True when the byte path canonicalized the text by itself, without the tree path (for tests).</summary>
    internal static bool TryCanonicalizeFast(ReadOnlySpan<byte> utf8Json, out byte[] canonical, StrictJsonOptions? options = null)
    {
        var writer = Utf8CanonicalWriter.Rent();
        try
        {
            var ok = writer.TryWriteDocument(utf8Json, options ?? StrictJsonOptions.Default);
            canonical = ok ? writer.Written.ToArray() : [];
            return ok;
        }
        finally
        {
            Utf8CanonicalWriter.Return(writer);
        }
    }

    /// <summary>The canonical bytes in <paramref name="writer"/>; anything the byte path refuses is redone on the tree path, which throws its own error.</summary>
    private static ReadOnlySpan<byte> WriteUtf8(ReadOnlySpan<byte> utf8Json, Utf8CanonicalWriter writer, StrictJsonOptions? options)
    {
        options ??= StrictJsonOptions.Default;
        if (writer.TryWriteDocument(utf8Json, options))
        {
            return writer.Written;
        }
        // The tree path reports the exact error (kind, line, column, path). Should it accept what the byte path
        // refused, its bytes are the answer: both paths must agree, and the tree path is the reference.
        writer.Reset();
        writer.Bytes(Canonicalize(StrictJson.Parse(utf8Json, options)));
        return writer.Written;
    }
}
