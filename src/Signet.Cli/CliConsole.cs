namespace Signet.Cli;

/// <summary>The streams and environment a command runs against; tests substitute their own.</summary>
internal sealed class CliConsole
{
    public required TextReader In { get; init; }
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }
    public required Func<string, string?> GetEnvironmentVariable { get; init; }

    /// <summary>The directory relative paths and project-scoped files are resolved against.</summary>
    public string WorkingDirectory { get; init; } = Environment.CurrentDirectory;

    /// <summary>True when stdin is a terminal a passphrase prompt can read from.</summary>
    public bool IsInteractive { get; init; }

    /// <summary>Reads one key press without echoing it (for passphrase prompts); null when there is no keyboard.</summary>
    public Func<ConsoleKeyInfo>? ReadKey { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Raw stdin for commands that speak a byte protocol on it (the proxy).</summary>
    public Func<Stream> OpenStandardInput { get; init; } = Console.OpenStandardInput;

    /// <summary>Raw stdout for commands that speak a byte protocol on it (the proxy); nothing else may write there.</summary>
    public Func<Stream> OpenStandardOutput { get; init; } = Console.OpenStandardOutput;

    /// <summary>All of stdin as bytes: JSON read from it must reach the strict parser undecoded, or invalid UTF-8 would become U+FFFD.</summary>
    public async Task<byte[]> ReadStandardInputAsync(CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await using (var stdin = OpenStandardInput())
        {
            await stdin.CopyToAsync(buffer, ct);
        }
        return buffer.ToArray();
    }

    public static CliConsole System { get; } = new()
    {
        In = Console.In,
        Out = Console.Out,
        Error = Console.Error,
        GetEnvironmentVariable = Environment.GetEnvironmentVariable,
        IsInteractive = !Console.IsInputRedirected,
        ReadKey = () => Console.ReadKey(intercept: true),
    };
}
