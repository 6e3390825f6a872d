using System.Globalization;
using System.Text;

namespace Signet.Transparency;

/// <summary>
/// Which witnesses must cosign a checkpoint (C2SP tlog-policy): known logs, known witnesses with
/// <c>cosignature/v1</c> keys, groups with a threshold, and one quorum.
/// </summary>
/// <remarks>
/// The text form is the tlog-policy file: <c>log &lt;vkey&gt; [url]</c>, <c>witness &lt;name&gt; &lt;vkey&gt; [url]</c>,
/// <c>group &lt;name&gt; all|any|&lt;k&gt; &lt;member&gt;…</c>, <c>quorum &lt;name&gt;|none</c>, <c>#</c> comments. Witness keys
/// must be type 0x04 and log keys type 0x01 (the only types this implementation verifies). Logs are listed for the
/// caller; <see cref="SignedCheckpoint.Verify"/> takes the log key separately.
/// </remarks>
public sealed class WitnessPolicy
{
    private const string What = "witness policy";
    private const string NoneName = "none";
    private const int MaxEntries = 256;

    private readonly List<NoteVerifierKey> _logs = [];
    private readonly List<WitnessPolicyWitness> _witnesses = [];
    private readonly Dictionary<string, Group> _groups = new(StringComparer.Ordinal);
    private readonly List<string> _groupOrder = [];
    private string? _quorum;

    private WitnessPolicy()
    {
    }

    /// <summary>A policy that requires no cosignatures and knows no witnesses.</summary>
    public static WitnessPolicy None { get; } = new();

    /// <summary>The logs the policy lists (vkeys of type 0x01).</summary>
    public IReadOnlyList<NoteVerifierKey> Logs => _logs;

    /// <summary>The witnesses the policy knows; their cosignatures are verified whether or not the quorum needs them.</summary>
    public IReadOnlyList<WitnessPolicyWitness> Witnesses => _witnesses;

    /// <summary>
    /// A policy that requires valid cosignatures from at least <paramref name="required"/> of the witnesses
    /// (0 for none), each named by its key name.
    /// </summary>
    public static WitnessPolicy Threshold(int required, IEnumerable<NoteVerifierKey> witnesses)
    {
        ArgumentNullException.ThrowIfNull(witnesses);
        var policy = new WitnessPolicy();
        foreach (var key in witnesses)
        {
            ArgumentNullException.ThrowIfNull(key);
            if (policy.AddWitness(key.Name, key, null) is { } problem)
            {
                throw new ArgumentException(problem, nameof(witnesses));
            }
        }
        var n = policy._witnesses.Count;
        if (required < 0 || required > n)
        {
            throw new ArgumentOutOfRangeException(nameof(required), required, $"the policy needs between 0 and {n} witnesses");
        }
        if (required == 1 && n == 1)
        {
            policy._quorum = policy._witnesses[0].Name;
        }
        else if (required > 0)
        {
            var name = "quorum";
            while (policy.IsDefined(name))
            {
                name += "-group";
            }
            policy.AddGroup(name, required, policy._witnesses.Select(w => w.Name).ToArray());
            policy._quorum = name;
        }
        return policy;
    }

    /// <summary>Parses the tlog-policy text form; throws <see cref="NoteFormatException"/> naming the line and the problem.</summary>
    public static WitnessPolicy Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var policy = new WitnessPolicy();
        var lines = text.Split('\n');
        var quorumLine = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var number = i + 1;
            var line = lines[i];
            if (CharacterProblem(line) is { } characterProblem)
            {
                throw new NoteFormatException(What, number, characterProblem);
            }
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || fields[0].StartsWith('#'))
            {
                continue;
            }
            var problem = fields[0] switch
            {
                "log" => policy.ParseLog(fields),
                "witness" => policy.ParseWitness(fields),
                "group" => policy.ParseGroup(fields),
                "quorum" when quorumLine > 0 => $"a second quorum line (the first is line {quorumLine})",
                "quorum" => policy.ParseQuorum(fields),
                _ => $"unknown keyword {NoteText.Quote(fields[0])} (log, witness, group, quorum or a # comment)",
            };
            if (problem is not null)
            {
                throw new NoteFormatException(What, number, problem);
            }
            if (fields[0] == "quorum")
            {
                quorumLine = number;
            }
            if (policy._logs.Count + policy._witnesses.Count + policy._groups.Count > MaxEntries)
            {
                throw new NoteFormatException(What, number, $"more than {MaxEntries} logs, witnesses and groups");
            }
        }
        if (quorumLine == 0)
        {
            throw new NoteFormatException(What, 0, "no quorum line (\"quorum none\" requires no cosignatures)");
        }
        return policy;
    }

    /// <summary>Whether the witnesses with these policy names, having cosigned, satisfy the quorum.</summary>
    public bool IsSatisfiedBy(IEnumerable<string> cosignedWitnesses)
    {
        ArgumentNullException.ThrowIfNull(cosignedWitnesses);
        var cosigned = new HashSet<string>(cosignedWitnesses, StringComparer.Ordinal);
        return _quorum is null || Witnessed(_quorum, cosigned);
    }

    /// <summary>The quorum in words, for error messages, e.g. <c>2 of (w1, w2)</c>.</summary>
    public string DescribeQuorum() => _quorum is null ? "none" : Describe(_quorum);

    /// <summary>The policy in the tlog-policy text form.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        foreach (var log in _logs)
        {
            builder.Append("log ").Append(log).Append('\n');
        }
        foreach (var witness in _witnesses)
        {
            builder.Append("witness ").Append(witness.Name).Append(' ').Append(witness.Key);
            if (witness.Url is not null)
            {
                builder.Append(' ').Append(witness.Url);
            }
            builder.Append('\n');
        }
        foreach (var name in _groupOrder)
        {
            var group = _groups[name];
            builder.Append("group ").Append(name).Append(' ').Append(group.Required.ToString(CultureInfo.InvariantCulture))
                .Append(' ').Append(string.Join(' ', group.Members)).Append('\n');
        }
        builder.Append("quorum ").Append(_quorum ?? NoneName).Append('\n');
        return builder.ToString();
    }

    internal WitnessPolicyWitness? FindWitness(NoteSignature signature) => _witnesses.Find(w => w.Key.Matches(signature));

    private bool Witnessed(string name, HashSet<string> cosigned) =>
        _groups.TryGetValue(name, out var group)
            ? group.Members.Count(member => Witnessed(member, cosigned)) >= group.Required
            : cosigned.Contains(name);

    private string Describe(string name) =>
        _groups.TryGetValue(name, out var group)
            ? $"{group.Required} of ({string.Join(", ", group.Members.Select(Describe))})"
            : name;

    private bool IsDefined(string name) => name == NoneName || _groups.ContainsKey(name) || _witnesses.Exists(w => w.Name == name);

    private string? ParseLog(string[] fields)
    {
        if (fields.Length is < 2 or > 3)
        {
            return "a log line is \"log <vkey> [<url>]\"";
        }
        if (!NoteVerifierKey.TryParse(fields[1], out var key, out var error))
        {
            return error;
        }
        if (key.Type != NoteVerifierKey.Ed25519Type)
        {
            return $"the log key has signature type 0x{key.Type:x2}; logs sign checkpoints with Ed25519 (type 0x01)";
        }
        if (_logs.Exists(l => l.PublicKey.Equals(key.PublicKey)))
        {
            return "a second log with the same public key";
        }
        _logs.Add(key);
        return null;
    }

    private string? ParseWitness(string[] fields)
    {
        if (fields.Length is < 3 or > 4)
        {
            return "a witness line is \"witness <name> <vkey> [<url>]\"";
        }
        if (!NoteVerifierKey.TryParse(fields[2], out var key, out var error))
        {
            return error;
        }
        return AddWitness(fields[1], key, fields.Length == 4 ? fields[3] : null);
    }

    private string? AddWitness(string name, NoteVerifierKey key, string? url)
    {
        if (key.Type != NoteVerifierKey.CosignatureType)
        {
            return $"the key of witness {NoteText.Quote(name)} has signature type 0x{key.Type:x2}; witnesses make cosignature/v1 cosignatures (type 0x04)";
        }
        if (IsDefined(name))
        {
            return $"the name {NoteText.Quote(name)} is {(name == NoneName ? "reserved" : "already defined")}";
        }
        if (_witnesses.Exists(w => w.Key.PublicKey.Equals(key.PublicKey)))
        {
            return $"witness {NoteText.Quote(name)} has the same public key as another witness";
        }
        _witnesses.Add(new WitnessPolicyWitness(name, key, url));
        return null;
    }

    private string? ParseGroup(string[] fields)
    {
        if (fields.Length < 4)
        {
            return "a group line is \"group <name> all|any|<k> <member>...\" with at least one member";
        }
        var name = fields[1];
        if (IsDefined(name))
        {
            return $"the name {NoteText.Quote(name)} is {(name == NoneName ? "reserved" : "already defined")}";
        }
        var members = fields[3..];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in members)
        {
            if (member == NoneName || !IsDefined(member))
            {
                return $"group member {NoteText.Quote(member)} is not a witness or group defined on an earlier line";
            }
            if (!seen.Add(member))
            {
                return $"group member {NoteText.Quote(member)} is listed twice";
            }
        }
        int required;
        if (fields[2] == "all")
        {
            required = members.Length;
        }
        else if (fields[2] == "any")
        {
            required = 1;
        }
        else if (!NoteText.TryParseDecimal(fields[2], out var k) || k < 1 || k > members.Length)
        {
            return $"the threshold {NoteText.Quote(fields[2])} is not all, any or a decimal from 1 to {members.Length}";
        }
        else
        {
            required = (int)k;
        }
        AddGroup(name, required, members);
        return null;
    }

    private void AddGroup(string name, int required, string[] members)
    {
        _groups.Add(name, new Group(required, members));
        _groupOrder.Add(name);
    }

    private string? ParseQuorum(string[] fields)
    {
        if (fields.Length != 2)
        {
            return "a quorum line is \"quorum <name>\" or \"quorum none\"";
        }
        if (!IsDefined(fields[1]))
        {
            return $"the quorum {NoteText.Quote(fields[1])} is not a witness or group defined on an earlier line";
        }
        _quorum = fields[1] == NoneName ? null : fields[1];
        return null;
    }

    private static string? CharacterProblem(string line)
    {
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
            {
                return $"control character U+{(int)c:X4} (only tab and newline are allowed)";
            }
            if (char.IsHighSurrogate(c) && i + 1 < line.Length && char.IsLowSurrogate(line[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return $"unpaired surrogate U+{(int)c:X4}";
            }
        }
        return null;
    }

    private sealed record Group(int Required, string[] Members);
}
