namespace Signet.Canonicalization;

/// <summary>A JSON document that could not be parsed, with the place and the reason.</summary>
/// <remarks>
/// Every refusal of <see cref="StrictJson"/> (and of the canonicalizer's byte path, which refuses the same inputs)
/// is this exception; nothing else escapes the parser for bad input. <see cref="Line"/>, <see cref="Column"/> and
/// <see cref="ByteOffset"/> are relative to the bytes given to the parser: a caller that parsed one line of a file
/// names the file and line itself.
/// </remarks>
public sealed class JsonParseException : SignetException
{
    /// <summary>Creates the exception (a syntax error whose byte offset is not known: <see cref="ByteOffset"/> is -1).</summary>
    public JsonParseException(string reason, long line, long column, string path)
        : this(reason, line, column, path, byteOffset: -1, JsonParseErrorKind.Syntax)
    {
    }

    /// <summary>Creates the exception with the zero-based byte offset and the kind of problem.</summary>
    public JsonParseException(string reason, long line, long column, string path, long byteOffset, JsonParseErrorKind kind)
        : base($"invalid JSON at line {line}, column {column}{(byteOffset >= 0 ? $", byte offset {byteOffset}" : "")} ({path}): {reason}")
    {
        Reason = reason;
        Line = line;
        Column = column;
        Path = path;
        ByteOffset = byteOffset;
        Kind = kind;
    }

    /// <summary>What is wrong.</summary>
    public string Reason { get; }

    /// <summary>One-based line of the problem.</summary>
    public long Line { get; }

    /// <summary>One-based column (in bytes) of the problem.</summary>
    public long Column { get; }

    /// <summary>Zero-based offset, in bytes from the start of the parsed text, of the problem; -1 when not known.</summary>
    public long ByteOffset { get; }

    /// <summary>What kind of problem it is.</summary>
    public JsonParseErrorKind Kind { get; }

    /// <summary>The JSON path of the value being read, e.g. <c>$.action.tool</c>.</summary>
    public string Path { get; }
}
