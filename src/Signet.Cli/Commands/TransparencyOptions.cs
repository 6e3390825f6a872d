using System.CommandLine;
using Microsoft.Extensions.Logging;
using Signet.Audit;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Cli.Commands;

/// <summary>
/// The checkpoint and witness options of every command that signs checkpoints (<c>proxy</c>, <c>bridge</c>,
/// <c>log checkpoint</c>, <c>log publish</c>): one spelling, one meaning.
/// </summary>
internal sealed class TransparencyOptions
{
    /// <summary>The environment variable holding the bearer token sent to witnesses.</summary>
    public const string WitnessTokenVariable = "SIGNET_WITNESS_TOKEN";

    public Option<string?> Origin { get; } = new("--log-origin")
    {
        HelpName = "ORIGIN",
        Description = "The checkpoint origin (and note key name) of this log (default: signet.local/ and 16 hex digits of the signing key's SHA-256)",
    };

    public Option<string[]> Witnesses { get; } = new("--witness")
    {
        HelpName = "URL=VKEY",
        Description = "A witness to publish checkpoints to, with its cosignature verifier key (repeatable)",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<string?> WitnessTokenFile { get; } = new("--witness-token-file")
    {
        HelpName = "FILE",
        Description = $"File holding the bearer token for witnesses that require one (default: ${WitnessTokenVariable})",
    };

    public void AddTo(Command command, bool withWitnesses = true)
    {
        command.Options.Add(Origin);
        if (withWitnesses)
        {
            command.Options.Add(Witnesses);
            command.Options.Add(WitnessTokenFile);
        }
    }

    /// <summary>The origin: <c>--log-origin</c>, else the key's default; a malformed one is a usage error.</summary>
    public string ResolveOrigin(ParseResult parse, PublicKey key)
    {
        var origin = parse.GetValue(Origin) ?? AuditCheckpoints.DefaultOrigin(key);
        if (origin.Length == 0 || origin.Any(c => char.IsWhiteSpace(c) || c == '+' || char.IsControl(c)))
        {
            throw new CliUsageException($"--log-origin \"{origin}\": an origin is non-empty, with no spaces, '+' or control characters (for example example.com/audit)");
        }
        return origin;
    }

    /// <summary>The witnesses given; a malformed one is a usage error.</summary>
    public IReadOnlyList<WitnessEndpoint> ResolveWitnesses(ParseResult parse)
    {
        var list = new List<WitnessEndpoint>();
        foreach (var text in parse.GetValue(Witnesses) ?? [])
        {
            try
            {
                list.Add(WitnessEndpoint.Parse(text));
            }
            catch (SignetException e)
            {
                throw new CliUsageException($"--witness: {e.Message}");
            }
        }
        return list;
    }

    /// <summary>The witness token from <c>--witness-token-file</c>, else <c>SIGNET_WITNESS_TOKEN</c>, else none.</summary>
    public string? ResolveToken(ParseResult parse, CliConsole console)
    {
        if (parse.GetValue(WitnessTokenFile) is { } file)
        {
            try
            {
                var token = File.ReadAllText(file).Trim();
                return token.Length > 0 ? token : throw new CliUsageException($"--witness-token-file {file}: the file is empty");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SignetException($"--witness-token-file {file}: {e.Message}");
            }
        }
        return console.GetEnvironmentVariable(WitnessTokenVariable) is { Length: > 0 } fromEnv ? fromEnv.Trim() : null;
    }

    /// <summary>
    /// Starts signing checkpoints of <paramref name="log"/> (sharing its tree) with <paramref name="key"/> every
    /// <paramref name="interval"/> and publishing them; null when the interval is zero (checkpoints turned off).
    /// A log whose tree cannot be opened is reported and the proxy runs on without checkpoints.
    /// </summary>
    public AuditCheckpointer? Start(ParseResult parse, CliConsole console, AuditLog log, ISigner key, TimeSpan interval, ILoggerFactory logging)
    {
        if (interval == TimeSpan.Zero)
        {
            return null;
        }
        var logger = logging.CreateLogger("Signet.Checkpoints");
        var signer = new NoteSigner(ResolveOrigin(parse, key.PublicKey), key);
        try
        {
            return AuditCheckpointer.Start(log, signer, new AuditCheckpointerOptions
            {
                Interval = interval,
                Witnesses = ResolveWitnesses(parse),
                WitnessToken = ResolveToken(parse, console),
            }, logger);
        }
        catch (Exception e) when (e is SignetException or IOException or UnauthorizedAccessException)
        {
            logger.LogError("Checkpoints are off: the audit log's tree in {Directory} cannot be opened: {Reason}", log.Directory, e.Message);
            return null;
        }
    }

    /// <summary>The <c>--checkpoint-interval</c> option of long-running commands.</summary>
    public static Option<string> Interval() => new("--checkpoint-interval")
    {
        HelpName = "DURATION",
        Description = "Sign a checkpoint of the audit log this often when it grew, and on exit (e.g. 30s, 5m; 0 turns checkpoints off)",
        DefaultValueFactory = _ => "60s",
    };

    /// <summary>Parses the interval: a duration, or 0 for off.</summary>
    public static TimeSpan ParseInterval(string text) =>
        text.Trim() is "0" or "0s" or "off" ? TimeSpan.Zero : BridgeCommand.ParseDuration(text, "--checkpoint-interval");

    /// <summary>The interval and the witnesses of a long-running command, checked together: witnesses need checkpoints.</summary>
    public TimeSpan ResolveInterval(ParseResult parse, Option<string> interval)
    {
        var value = ParseInterval(parse.GetValue(interval)!);
        if (ResolveWitnesses(parse).Count > 0 && value == TimeSpan.Zero)
        {
            throw new CliUsageException("--witness needs checkpoints to publish: drop --checkpoint-interval 0, or the --witness options");
        }
        return value;
    }
}
