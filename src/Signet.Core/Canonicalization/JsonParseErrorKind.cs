namespace Signet.Canonicalization;

/// <summary>What kind of problem a <see cref="JsonParseException"/> reports.</summary>
public enum JsonParseErrorKind
{
    /// <summary>Not JSON: a bad token, a missing bracket, trailing text, an empty document.</summary>
    Syntax,

    /// <summary>The bytes are not UTF-8 (an overlong form, an encoded surrogate, a truncated sequence, a stray byte 0x80-0xFF).</summary>
    InvalidUtf8,

    /// <summary>A <c>\u</c> escape (or a string given to the parser) holds half a surrogate pair.</summary>
    LoneSurrogate,

    /// <summary>An object repeats a key and the policy is <see cref="DuplicateKeyPolicy.Reject"/>.</summary>
    DuplicateKey,

    /// <summary>Objects and arrays nest deeper than <see cref="StrictJsonOptions.MaxDepth"/>.</summary>
    TooDeep,

    /// <summary>A number overflows a 64-bit float.</summary>
    NumberOutOfRange,

    /// <summary>The text starts with a UTF-8 byte order mark.</summary>
    ByteOrderMark,

    /// <summary>The text is valid JSON but not the kind of document expected (e.g. not an object).</summary>
    WrongShape,
}
