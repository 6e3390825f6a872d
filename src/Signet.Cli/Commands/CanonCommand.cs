using System.CommandLine;
using System.Text.Json.Nodes;
using Signet.Canonicalization;

namespace Signet.Cli.Commands;

/// <summary><c>signet canon</c>: the RFC 8785 form of the JSON on stdin (or in a file).</summary>
internal static class CanonCommand
{
    public static Command Create(CliConsole console)
    {
        var file = new Argument<string?>("file") { Description = "JSON file to read (default: stdin)", Arity = ArgumentArity.ZeroOrOne };
        var hash = new Option<bool>("--hash") { Description = "Print the sha256: content hash instead of the canonical text" };
        var lastWins = new Option<bool>("--allow-duplicate-keys") { Description = "Accept repeated keys, keeping the last (as the reference Signet does)" };
        var command = new Command("canon", "Print the RFC 8785 canonical form of JSON (stdin or FILE)") { file, hash, lastWins };
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file);
            byte[] input = path is null or "-"
                ? await console.ReadStandardInputAsync(ct)
                : await ReadFile(path, ct);
            var options = parse.GetValue(lastWins) ? new StrictJsonOptions { DuplicateKeys = DuplicateKeyPolicy.LastWins } : null;
            JsonNode? node;
            try
            {
                node = StrictJson.Parse(input.AsSpan().TrimEnd("\r\n \t"u8), options);
            }
            catch (JsonParseException e)
            {
                throw new SignetException($"{(path is null or "-" ? "stdin" : path)}: {e.Message}");
            }
            var text = parse.GetValue(hash) ? JsonCanonicalizer.Sha256(node) : JsonCanonicalizer.CanonicalizeToString(node);
            await console.Out.WriteLineAsync(text);
            return SignetCli.Ok;
        });
        return command;
    }

    private static async Task<byte[]> ReadFile(string path, CancellationToken ct)
    {
        if (!File.Exists(path))
        {
            throw new SignetException(Directory.Exists(path) ? $"{path}: is a directory, not a JSON file" : $"{path}: no such file");
        }
        try
        {
            return await File.ReadAllBytesAsync(path, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SignetException($"{path}: cannot be read: {e.Message}", e);
        }
    }
}
