using System.CommandLine;
using Signet.Keys;
using Signet.Mcp;
using Signet.Mcp.Recording;

namespace Signet.Cli.Commands;

/// <summary>
/// The recording policies every command that signs traffic takes (<c>proxy</c>, <c>proxy --url</c>, <c>bridge</c>): one
/// set of options, applied to one <see cref="SignetOptions"/>, so that each policy works the same in every mode.
/// </summary>
internal sealed class RecordingOptions
{
    public Option<bool> FailOpen { get; } = new("--fail-open")
    {
        Description = "Forward calls that cannot be signed or logged, unsigned, with a critical FAIL-OPEN log line each, instead of refusing them",
    };

    public Option<bool> SyncResponses { get; } = new("--sync-responses")
    {
        Description = "Deliver a response only after its receipt is fsync'ed too (two fsyncs per call)",
    };

    public Option<ReceiptMetaKeyMode> MetaKey { get; } = new("--meta-key")
    {
        Description = "The _meta key that carries the receipt: Standard (dev.signet/receipt, the default), Reference (_signet, for the reference Signet's verifier) or Both",
        DefaultValueFactory = _ => ReceiptMetaKeyMode.Standard,
    };

    public Option<string[]> TrustServerKeys { get; } = new("--trust-server-key")
    {
        Description = "A server key (ed25519:<base64>) whose co-signatures are trusted (repeatable; without one, co-signatures are checked for integrity only)",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<bool> RequireCoSignature { get; } = new("--require-cosignature")
    {
        Description = "Withhold a response that carries no valid server co-signature (from a --trust-server-key, when any are given); holds under --fail-open too",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(FailOpen);
        command.Options.Add(SyncResponses);
        command.Options.Add(MetaKey);
        command.Options.Add(TrustServerKeys);
        command.Options.Add(RequireCoSignature);
    }

    /// <summary>Sets what the command line gives; a switch that is off leaves a setting from a config file as it is.</summary>
    public void ApplyTo(ParseResult parse, SignetOptions options)
    {
        if (parse.GetValue(FailOpen))
        {
            options.FailureMode = RecordingFailureMode.FailOpen;
        }
        options.SyncResponseReceipts |= parse.GetValue(SyncResponses);
        options.RequireCoSignature |= parse.GetValue(RequireCoSignature);
        if (parse.GetResult(MetaKey) is { Implicit: false })
        {
            options.MetaKeyMode = parse.GetValue(MetaKey);
        }
        foreach (var text in parse.GetValue(TrustServerKeys) ?? [])
        {
            if (!PublicKey.TryParse(text, out var key, out var error))
            {
                throw new CliUsageException($"--trust-server-key \"{text}\" is not a public key: {error} (give it as ed25519:<base64>, as `signet key show` prints it)");
            }
            options.TrustedServerKeys = [.. options.TrustedServerKeys, key];
        }
    }
}
