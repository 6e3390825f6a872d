namespace Signet.Cli.Tests;

/// <summary>Runs the <c>signet</c> command in-process against in-memory streams and a dictionary environment.</summary>
internal sealed class CliRun
{
    public Dictionary<string, string?> Environment { get; } = new();

    public bool Interactive { get; init; }

    public Queue<ConsoleKeyInfo> Keys { get; } = new();

    public CliConsole Console(StringWriter output, StringWriter error) => new()
    {
        In = new StringReader(""),
        OpenStandardInput = () => new MemoryStream([], writable: false),
        Out = output,
        Error = error,
        GetEnvironmentVariable = Environment.GetValueOrDefault,
        IsInteractive = Interactive,
        ReadKey = Interactive ? () => Keys.Count > 0 ? Keys.Dequeue() : throw new InvalidOperationException("prompt read past the scripted keys") : null,
    };

    public void Type(string text)
    {
        foreach (var c in text)
        {
            Keys.Enqueue(new ConsoleKeyInfo(c, ConsoleKey.A, false, false, false));
        }
        Keys.Enqueue(new ConsoleKeyInfo('\r', ConsoleKey.Enter, false, false, false));
    }

    public async Task<CliResult> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await SignetCli.RunAsync(args, Console(output, error)).WaitAsync(TimeSpan.FromSeconds(60));
        return new CliResult(exit, output.ToString(), error.ToString());
    }
}

internal sealed record CliResult(int ExitCode, string Out, string Error);
