namespace Signet.Cli.Config;

/// <summary>A client config that cannot be read or rewritten; the file is left untouched.</summary>
internal sealed class McpConfigException : SignetException
{
    /// <summary>Creates an error that names the file and, when known, the 1-based line and column.</summary>
    public McpConfigException(string reason, string? file = null, int line = 0, int column = 0)
        : base(Format(reason, file, line, column))
    {
        Reason = reason;
        File = file;
        Line = line;
        Column = column;
    }

    /// <summary>What is wrong, without the place.</summary>
    public string Reason { get; }

    /// <summary>The config file, when known.</summary>
    public string? File { get; }

    /// <summary>The 1-based line of the problem, or 0 when it has no place.</summary>
    public int Line { get; }

    /// <summary>The 1-based column (in characters) of the problem, or 0 when it has no place.</summary>
    public int Column { get; }

    /// <summary>The same error, naming the file it is about.</summary>
    public McpConfigException WithFile(string file) => new(Reason, file, Line, Column);

    private static string Format(string reason, string? file, int line, int column) => (file, line) switch
    {
        (null, 0) => reason,
        (null, _) => $"line {line}, column {column}: {reason}",
        (_, 0) => $"{file}: {reason}",
        _ => $"{file}:{line}:{column}: {reason}",
    };
}
