using System.Text;

namespace Signet.Cli.Config;

/// <summary>
/// Rewrites MCP client configs so servers run through <c>signet proxy</c>, and back. Only the text of the
/// entries it changes is replaced; comments, trailing commas and formatting elsewhere stay byte for byte.
/// </summary>
/// <remarks>
/// A stdio entry with an <c>args</c> array is wrapped in place: <c>command</c> becomes signet and
/// <c>proxy --name NAME [options] -- COMMAND</c> is inserted before the original arguments, so unwrapping
/// takes everything after <c>--</c> back and gives the original text. An entry that cannot be restored
/// from its arguments alone (a URL server, or a stdio server without <c>args</c>) is rewritten as a new
/// stdio entry that keeps its other keys and records the original entry's exact text in the environment
/// variable <see cref="OriginalVariable"/> of its <c>env</c> block (clients such as Gemini CLI reject unknown
/// keys, and every client accepts <c>env</c>; the proxy never passes <c>SIGNET_*</c> secrets to a server);
/// unwrapping puts that text back.
/// </remarks>
internal static class McpConfigRewriter
{
    /// <summary>The <c>env</c> variable in which a wrapped entry keeps its original text when its arguments cannot restore it.</summary>
    public const string OriginalVariable = "SIGNET_WRAP_ORIGINAL";

    /// <summary>
    /// The <c>env</c> variable that lists what <c>wrap</c> added to an entry's <c>env</c> (<c>SIGNET_PASSPHRASE</c>, or
    /// <c>env</c> when it added the whole block), so that <c>unwrap</c> removes exactly that.
    /// </summary>
    public const string AddedVariable = "SIGNET_WRAP_ADDED";

    private const string PassphraseVariable = "SIGNET_PASSPHRASE";

    private static readonly HashSet<string> UrlKeys = ["type", "url", "httpUrl", "headers"];

    // Proxy options that take a value, so a value is never mistaken for the "--" separator.
    private static readonly HashSet<string> ValueOptions =
        ["--key", "--name", "--target", "--home", "--durability", "--meta-key", "--url", "--header", "--passphrase-file", "--log-file", "--max-line-bytes"];

    /// <summary>Routes the selected servers through <c>signet proxy</c>; wrapped servers are left as they are.</summary>
    public static McpConfigRewrite Wrap(byte[] utf8, McpClientApp client, McpWrapOptions options)
    {
        ArgumentNullException.ThrowIfNull(utf8);
        ArgumentNullException.ThrowIfNull(options);
        var document = new Document(utf8);
        var results = new List<McpServerResult>();
        foreach (var server in Servers(document, client))
        {
            if (options.Servers is not null && !options.Servers.Contains(server.Name))
            {
                results.Add(server.Result(McpServerAction.NotSelected));
                continue;
            }
            var entry = Classify(server, client);
            switch (entry.Kind)
            {
                case EntryKind.Wrapped when IsOlderForm(server, entry):
                    UpdateOlderForm(document, server, entry, options);
                    results.Add(server.Result(McpServerAction.Updated, "the server is now the target and the key's agent the signer"));
                    break;
                case EntryKind.Wrapped:
                    results.Add(server.Result(McpServerAction.AlreadyWrapped));
                    break;
                case EntryKind.Stdio when server.Value["args"] is not null:
                    WrapInPlace(document, server, options);
                    if (options.Passphrase is { } passphrase && server.Value["env"]?[PassphraseVariable] is null)
                    {
                        AddPassphrase(document, server, passphrase);
                    }
                    results.Add(server.Result(McpServerAction.Wrapped));
                    break;
                case EntryKind.Stdio or EntryKind.Url:
                    WrapWithOriginal(document, server, entry, client, options);
                    results.Add(server.Result(McpServerAction.Wrapped));
                    break;
                default:
                    results.Add(server.Result(McpServerAction.Unsupported, entry.Detail));
                    break;
            }
        }
        return new McpConfigRewrite(utf8, Checked(document.Apply()), results);
    }

    /// <summary>Restores the selected wrapped servers to their original entries.</summary>
    public static McpConfigRewrite Unwrap(byte[] utf8, McpClientApp client, IReadOnlySet<string>? servers = null)
    {
        ArgumentNullException.ThrowIfNull(utf8);
        var document = new Document(utf8);
        var results = new List<McpServerResult>();
        foreach (var server in Servers(document, client))
        {
            if (servers is not null && !servers.Contains(server.Name))
            {
                results.Add(server.Result(McpServerAction.NotSelected));
                continue;
            }
            var entry = Classify(server, client);
            if (entry.Kind != EntryKind.Wrapped)
            {
                results.Add(entry.Kind == EntryKind.Unsupported
                    ? server.Result(McpServerAction.Unsupported, entry.Detail)
                    : server.Result(McpServerAction.NotWrapped));
                continue;
            }
            if (server.Value["env"]?[OriginalVariable] is { IsString: true } recorded)
            {
                var original = Encoding.UTF8.GetBytes(recorded.String!);
                if (!IsObjectText(original))
                {
                    results.Add(server.Result(McpServerAction.Unsupported, $"{OriginalVariable} does not hold a JSON object; edit it by hand"));
                    continue;
                }
                document.Replace(server.Value.Start, server.Value.End, original);
                var addedPassphrase = server.Value["env"]?[AddedVariable]?.String?.Split(',').Contains(PassphraseVariable) == true;
                results.Add(server.Result(McpServerAction.Unwrapped, addedPassphrase ? $"removed {PassphraseVariable}, which wrap added" : null));
            }
            else if (entry.TargetIndex >= 0)
            {
                UnwrapInPlace(document, server, entry.TargetIndex);
                var removed = RemoveAdded(document, server);
                results.Add(server.Result(McpServerAction.Unwrapped, removed.Count == 0 ? null : $"removed {string.Join(", ", removed)}, which wrap added"));
            }
            else
            {
                results.Add(server.Result(McpServerAction.Unsupported,
                    $"nothing to restore it from: no server command after the proxy's \"--\" and no {OriginalVariable} in its env; edit it by hand"));
            }
        }
        return new McpConfigRewrite(utf8, Checked(document.Apply()), results);
    }

    /// <summary>Lists the servers of a config and whether each runs through signet.</summary>
    public static IReadOnlyList<McpServerInfo> Inspect(byte[] utf8, McpClientApp client)
    {
        ArgumentNullException.ThrowIfNull(utf8);
        var document = new Document(utf8);
        var list = new List<McpServerInfo>();
        foreach (var server in Servers(document, client))
        {
            var entry = Classify(server, client);
            var state = entry.Kind switch
            {
                EntryKind.Wrapped => McpServerState.Wrapped,
                EntryKind.Unsupported => McpServerState.Unsupported,
                _ => McpServerState.NotWrapped,
            };
            list.Add(new McpServerInfo(server.Location, server.Name, state, entry.Detail ?? ""));
        }
        return list;
    }

    private static bool IsObjectText(byte[] text)
    {
        try
        {
            return JsonSpanTree.Parse(text).IsObject;
        }
        catch (McpConfigException)
        {
            return false;
        }
    }

    // A last guard: whatever the edits, the result must still parse, or nothing is written.
    private static byte[] Checked(byte[] result)
    {
        try
        {
            JsonSpanTree.Parse(result);
        }
        catch (McpConfigException e)
        {
            throw new McpConfigException($"the rewritten config would not parse ({e.Message}); nothing was written. Please report this with the file.");
        }
        return result;
    }

    private static void WrapInPlace(Document document, Server server, McpWrapOptions options)
    {
        var command = server.Value["command"]!;
        var args = server.Value["args"]!;
        var prefix = ProxyPrefix(server.Name, options).Select(Json.Quote).ToList();
        prefix.Add(Json.Quote("--"));
        prefix.Add(Encoding.UTF8.GetString(document.Slice(command.Start, command.End)));

        document.Replace(command.Start, command.End, Encoding.UTF8.GetBytes(Json.Quote(options.Launcher.Command)));
        if (args.Items!.Count == 0)
        {
            document.Replace(args.Start + 1, args.Start + 1, Encoding.UTF8.GetBytes(string.Join(", ", prefix)));
            return;
        }
        var separator = ElementSeparator(document, args);
        var text = new StringBuilder();
        foreach (var element in prefix)
        {
            text.Append(element).Append(',').Append(separator);
        }
        document.Replace(args.Items[0].Start, args.Items[0].Start, Encoding.UTF8.GetBytes(text.ToString()));
    }

    private static void UnwrapInPlace(Document document, Server server, int targetIndex)
    {
        var command = server.Value["command"]!;
        var items = server.Value["args"]!.Items!;
        var target = items[targetIndex];
        document.Replace(command.Start, command.End, document.Slice(target.Start, target.End));
        var end = targetIndex + 1 < items.Count ? items[targetIndex + 1].Start : target.End;
        document.Replace(items[0].Start, end, []);
    }

    private static void WrapWithOriginal(Document document, Server server, Entry entry, McpClientApp client, McpWrapOptions options)
    {
        var value = server.Value;
        var args = ProxyPrefix(server.Name, options);
        var properties = new List<string>();
        if (entry.Kind == EntryKind.Url)
        {
            args.Add("--url");
            args.Add(entry.Url!);
            foreach (var (name, headerValue) in entry.Headers)
            {
                args.Add("--header");
                args.Add($"{name}={headerValue}");
            }
            // VS Code wants a type on every server; Gemini CLI picks the transport from the keys present and
            // does not know "stdio" as a type; the others take "stdio" where the entry named a type before.
            if (client == McpClientApp.VsCode || (value["type"] is not null && client != McpClientApp.GeminiCli))
            {
                properties.Add($"{Json.Quote("type")}: {Json.Quote("stdio")}");
            }
        }
        else
        {
            args.Add("--");
            args.Add(value["command"]!.String!);
        }
        var marker = $"{Json.Quote(OriginalVariable)}: {Json.Quote(Encoding.UTF8.GetString(document.Slice(value.Start, value.End)))}";
        if (options.Passphrase is { } passphrase && value["env"]?[PassphraseVariable] is null)
        {
            // Restoring the recorded original removes it again.
            marker += $", {Json.Quote(AddedVariable)}: {Json.Quote(PassphraseVariable)}, {Json.Quote(PassphraseVariable)}: {Json.Quote(passphrase)}";
        }
        var argsText = $"{Json.Quote("args")}: [{string.Join(", ", args.Select(Json.Quote))}]";
        var commandText = $"{Json.Quote("command")}: {Json.Quote(options.Launcher.Command)}";
        if (entry.Kind == EntryKind.Url)
        {
            properties.Add(commandText);
            properties.Add(argsText);
        }
        foreach (var property in value.Properties!)
        {
            if (entry.Kind == EntryKind.Url && UrlKeys.Contains(property.Name))
            {
                continue;
            }
            if (entry.Kind == EntryKind.Stdio && property.Name == "command")
            {
                properties.Add(commandText);
                properties.Add(argsText);
                continue;
            }
            if (property.Name == "env" && property == value.Property("env"))
            {
                properties.Add(EnvWithOriginal(document, property, marker));
                continue;
            }
            properties.Add(Encoding.UTF8.GetString(document.Slice(property.NameStart, property.Value.End)));
        }
        if (value["env"] is null)
        {
            properties.Add($"{Json.Quote("env")}: {{ {marker} }}");
        }
        document.Replace(value.Start, value.End, Encoding.UTF8.GetBytes(Style.Of(document, value).Layout(properties)));
    }

    // SIGNET_PASSPHRASE (and the note that wrap added it) as the first variables of the entry's env, or a new env.
    private static void AddPassphrase(Document document, Server server, string passphrase)
    {
        var value = server.Value;
        var members = $"{Json.Quote(PassphraseVariable)}: {Json.Quote(passphrase)}";
        if (value.Property("env") is { } env)
        {
            var variables = env.Value.Properties!;
            if (variables.Count == 0)
            {
                document.Replace(env.Value.Start, env.Value.End,
                    Encoding.UTF8.GetBytes($"{{ {Json.Quote(AddedVariable)}: {Json.Quote(PassphraseVariable)}, {members} }}"));
                return;
            }
            var leading = Encoding.UTF8.GetString(document.Slice(env.Value.Start + 1, variables[0].NameStart));
            var separator = leading.Length > 0 && string.IsNullOrWhiteSpace(leading) ? leading : " ";
            document.Replace(variables[0].NameStart, variables[0].NameStart, Encoding.UTF8.GetBytes(
                $"{Json.Quote(AddedVariable)}: {Json.Quote(PassphraseVariable)}," + separator + members + "," + separator));
            return;
        }
        var style = Style.Of(document, value);
        var last = value.Properties![^1];
        var before = style.MultiLine ? "," + style.Newline + style.Inner : ", ";
        document.Replace(last.Value.End, last.Value.End,
            Encoding.UTF8.GetBytes($"{before}{Json.Quote("env")}: {{ {Json.Quote(AddedVariable)}: {Json.Quote("env," + PassphraseVariable)}, {members} }}"));
    }

    // Takes out of a wrapped entry's env what wrap added there (see AddPassphrase); returns the variables removed.
    private static List<string> RemoveAdded(Document document, Server server)
    {
        var value = server.Value;
        if (value.Property("env") is not { } env || env.Value[AddedVariable] is not { IsString: true } note)
        {
            return [];
        }
        var added = note.String!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var variables = env.Value.Properties!;
        var removed = variables.Where(v => v.Name == AddedVariable || added.Contains(v.Name)).ToList();
        var names = removed.Select(v => v.Name).Where(n => n != AddedVariable).Distinct().ToList();
        var kept = variables.Except(removed).ToList();
        var properties = value.Properties!;
        var index = properties.IndexOf(env);
        if (added.Contains("env") && kept.Count == 0 && index > 0)
        {
            document.Replace(properties[index - 1].Value.End, env.Value.End, []);
            return names;
        }
        if (kept.Count == 0)
        {
            document.Replace(env.Value.Start, env.Value.End, "{}"u8);
        }
        else if (variables.Take(removed.Count).SequenceEqual(removed))
        {
            document.Replace(variables[0].NameStart, kept[0].NameStart, []);
        }
        else
        {
            var text = string.Join(", ", kept.Select(v => Encoding.UTF8.GetString(document.Slice(v.NameStart, v.Value.End))));
            document.Replace(env.Value.Start, env.Value.End, Encoding.UTF8.GetBytes("{ " + text + " }"));
        }
        return names;
    }

    // The env object with the recorded original as its first variable, laid out like the variables that follow.
    private static string EnvWithOriginal(Document document, JsonSpanProperty env, string marker)
    {
        var members = env.Value.Properties!;
        if (members.Count == 0)
        {
            return $"{Json.Quote("env")}: {{ {marker} }}";
        }
        var leading = Encoding.UTF8.GetString(document.Slice(env.Value.Start + 1, members[0].NameStart));
        var separator = leading.Length > 0 && string.IsNullOrWhiteSpace(leading) ? leading : " ";
        return Encoding.UTF8.GetString(document.Slice(env.NameStart, members[0].NameStart)) + marker + "," + separator +
            Encoding.UTF8.GetString(document.Slice(members[0].NameStart, env.Value.End));
    }

    private static string Indent(Document document, int offset)
    {
        var lineStart = document.LineStart(offset);
        return new string(Encoding.UTF8.GetString(document.Slice(lineStart, offset)).TakeWhile(c => c is ' ' or '\t').ToArray());
    }

    /// <summary>The receipt target <c>wrap</c> writes for a server: <c>mcp://</c> and the entry's name.</summary>
    public static string TargetFor(string serverName) => "mcp://" + Uri.EscapeDataString(serverName);

    private static List<string> ProxyPrefix(string name, McpWrapOptions options)
    {
        var args = new List<string>(options.Launcher.PrefixArguments) { "proxy" };
        args.AddRange(SignerAndTarget(name, options));
        args.AddRange(options.ProxyOptions);
        return args;
    }

    // The signer is the agent (the key's name unless --signer names it), the target the server: two servers of one
    // config never share a target.
    private static List<string> SignerAndTarget(string name, McpWrapOptions options)
    {
        var args = new List<string>();
        if (options.SignerName is { } signer)
        {
            args.AddRange(["--name", signer]);
        }
        if (!options.ProxyOptions.Contains("--target"))
        {
            args.AddRange(["--target", TargetFor(name)]);
        }
        return args;
    }

    // Earlier versions wrote "proxy --name <server>" with no --target: the server's name became the signer and
    // the target was derived from the command (mcp://index.js for many servers at once).
    private static bool IsOlderForm(Server server, Entry entry)
    {
        var items = server.Value["args"]!.Items!;
        var p = entry.ProxyIndex;
        if (items.Count < p + 3 || items[p + 1].String != "--name" || items[p + 2].String != server.Name)
        {
            return false;
        }
        var end = entry.TargetIndex >= 0 ? entry.TargetIndex - 1 : items.Count;
        return !items.Take(end).Skip(p + 3).Any(i => i.String == "--target");
    }

    private static void UpdateOlderForm(Document document, Server server, Entry entry, McpWrapOptions options)
    {
        var args = server.Value["args"]!;
        var items = args.Items!;
        var p = entry.ProxyIndex;
        var replacement = SignerAndTarget(server.Name, options);
        if (replacement.Count == 0)
        {
            document.Replace(items[p + 1].Start, items[p + 3].Start, []);
            return;
        }
        var separator = ElementSeparator(document, args);
        document.Replace(items[p + 1].Start, items[p + 2].End,
            Encoding.UTF8.GetBytes(string.Join("," + separator, replacement.Select(Json.Quote))));
    }

    // The text that separates array elements, taken from the array itself so the new elements look like the old.
    private static string ElementSeparator(Document document, JsonSpan array)
    {
        var items = array.Items!;
        if (items.Count >= 2)
        {
            var between = Encoding.UTF8.GetString(document.Slice(items[0].End, items[1].Start));
            var comma = between.IndexOf(',', StringComparison.Ordinal);
            var after = comma >= 0 ? between[(comma + 1)..] : between;
            if (after.Length > 0 && string.IsNullOrWhiteSpace(after))
            {
                return after;
            }
        }
        var leading = Encoding.UTF8.GetString(document.Slice(array.Start + 1, items[0].Start));
        return leading.Contains('\n', StringComparison.Ordinal) && string.IsNullOrWhiteSpace(leading) ? leading : " ";
    }

    // The layout of the object a new entry replaces: one property per line at the same indentation when the
    // original spans lines, else everything on one line.
    private sealed record Style(bool MultiLine, string Pad, string Inner, string Base, string Newline)
    {
        public static Style Of(Document document, JsonSpan original)
        {
            var text = Encoding.UTF8.GetString(document.Slice(original.Start, original.End));
            var newline = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
            var before = Encoding.UTF8.GetString(document.Slice(original.Start + 1, original.Properties![0].NameStart));
            var baseIndent = Indent(document, original.Start);
            if (!before.Contains('\n', StringComparison.Ordinal))
            {
                var pad = before.Length > 0 && string.IsNullOrWhiteSpace(before) ? " " : "";
                return new Style(false, pad, "", baseIndent, newline);
            }
            var inner = before[(before.LastIndexOf('\n') + 1)..];
            if (inner.Length == 0 || !string.IsNullOrWhiteSpace(inner))
            {
                inner = baseIndent + "  ";
            }
            return new Style(true, "", inner, baseIndent, newline);
        }

        public string Layout(List<string> properties) => MultiLine
            ? "{" + Newline + string.Join("," + Newline, properties.Select(p => Inner + p)) + Newline + Base + "}"
            : "{" + Pad + string.Join(", ", properties) + Pad + "}";
    }

    private static Entry Classify(Server server, McpClientApp client)
    {
        var value = server.Value;
        if (!value.IsObject)
        {
            return Entry.Unsupported("the entry is not an object");
        }
        if (value["env"] is { IsObject: false })
        {
            return Entry.Unsupported("\"env\" is not an object");
        }
        var command = value["command"];
        var type = value["type"]?.String;
        var args = value["args"];
        if (command is not null && (type is null or "stdio"))
        {
            if (!command.IsString || string.IsNullOrEmpty(command.String))
            {
                return Entry.Unsupported("\"command\" is not a non-empty string");
            }
            if (args is not null && (!args.IsArray || args.Items!.Any(i => !i.IsString)))
            {
                return Entry.Unsupported("\"args\" is not an array of strings");
            }
            var list = args?.Items!.Select(i => i.String!).ToList() ?? [];
            if (SignetLauncher.IsProxyInvocation(command.String, list, out var proxyIndex))
            {
                var target = TargetIndex(list, proxyIndex + 1);
                var summary = target >= 0
                    ? string.Join(' ', list.Skip(target))
                    : list.SkipWhile(a => a != "--url").Skip(1).FirstOrDefault() ?? "";
                return new Entry(EntryKind.Wrapped, summary, target, ProxyIndex: proxyIndex);
            }
            return new Entry(EntryKind.Stdio, string.Join(' ', list.Prepend(command.String)));
        }

        var url = value["httpUrl"] ?? value["url"];
        if (url is not null)
        {
            if (!url.IsString || string.IsNullOrEmpty(url.String))
            {
                return Entry.Unsupported("the URL is not a non-empty string");
            }
            if (type is not (null or "http" or "sse" or "streamable-http" or "streamableHttp"))
            {
                return Entry.Unsupported($"transport type \"{type}\" is not supported");
            }
            // signet proxy --url speaks Streamable HTTP. Gemini CLI's "url" without a type means SSE.
            if (type == "sse" || (client == McpClientApp.GeminiCli && value["httpUrl"] is null && type is null))
            {
                return Entry.Unsupported("an SSE server: signet proxy --url connects over Streamable HTTP only");
            }
            var headers = new List<(string, string)>();
            if (value["headers"] is { } headerObject)
            {
                if (!headerObject.IsObject || headerObject.Properties!.Any(p => !p.Value.IsString))
                {
                    return Entry.Unsupported("\"headers\" is not an object of strings");
                }
                headers.AddRange(headerObject.Properties!.Select(p => (p.Name, p.Value.String!)));
            }
            return new Entry(EntryKind.Url, url.String, Url: url.String, Headers: headers);
        }
        return Entry.Unsupported(type is null ? "the entry has neither \"command\" nor \"url\"" : $"transport type \"{type}\" is not supported");
    }

    // The index of the real server command: the first argument after the proxy's "--" separator, or -1.
    private static int TargetIndex(List<string> args, int start)
    {
        for (var i = start; i < args.Count; i++)
        {
            if (args[i] == "--")
            {
                return i + 1 < args.Count ? i + 1 : -1;
            }
            if (ValueOptions.Contains(args[i]))
            {
                i++;
            }
        }
        return -1;
    }

    private static IEnumerable<Server> Servers(Document document, McpClientApp client)
    {
        var root = document.Root;
        if (!root.IsObject)
        {
            throw document.Error("the top-level value is not an object", root.Start);
        }
        var key = McpClientApps.ServersKey(client);
        var maps = new List<(string Location, JsonSpan Map)>();
        if (root[key] is { } top)
        {
            maps.Add((key, top));
        }
        if (client == McpClientApp.ClaudeCode && root["projects"] is { IsObject: true } projects)
        {
            foreach (var project in projects.Properties!)
            {
                if (project.Value[key] is { } nested)
                {
                    maps.Add(($"projects[{Json.Quote(project.Name)}].{key}", nested));
                }
            }
        }
        foreach (var (location, map) in maps)
        {
            if (!map.IsObject)
            {
                throw document.Error($"\"{location}\" is not an object", map.Start);
            }
            document.RejectDuplicates(map, location);
            foreach (var property in map.Properties!)
            {
                if (property.Value.IsObject)
                {
                    document.RejectDuplicates(property.Value, $"{location}.{property.Name}");
                }
                yield return new Server(location, property.Name, property.Value);
            }
        }
    }

    private enum EntryKind
    {
        Stdio,
        Url,
        Wrapped,
        Unsupported,
    }

    private sealed record Entry(EntryKind Kind, string? Detail, int TargetIndex = -1, string? Url = null, List<(string Name, string Value)>? Headers = null,
        int ProxyIndex = -1)
    {
        public List<(string Name, string Value)> Headers { get; } = Headers ?? [];

        public static Entry Unsupported(string reason) => new(EntryKind.Unsupported, reason);
    }

    private sealed record Server(string Location, string Name, JsonSpan Value)
    {
        public McpServerResult Result(McpServerAction action, string? detail = null) => new(Location, Name, action, detail)
        {
            Environment = Value["env"] is { IsObject: true } env
                ? env.Properties!.Where(p => p.Value.IsString).GroupBy(p => p.Name).ToDictionary(g => g.Key, g => g.Last().Value.String!, StringComparer.Ordinal)
                : new Dictionary<string, string>(StringComparer.Ordinal),
            Arguments = Value["args"] is { IsArray: true } args ? args.Items!.Where(i => i.IsString).Select(i => i.String!).ToList() : [],
        };
    }

    /// <summary>The parsed file plus the replacements made so far.</summary>
    private sealed class Document(byte[] utf8)
    {
        private readonly List<(int Start, int End, byte[] Text)> _edits = [];

        public JsonSpan Root { get; } = JsonSpanTree.Parse(utf8);

        public ReadOnlySpan<byte> Slice(int start, int end) => utf8.AsSpan(start, end - start);

        public void Replace(int start, int end, ReadOnlySpan<byte> text) => _edits.Add((start, end, text.ToArray()));

        public int LineStart(int offset)
        {
            var i = offset;
            while (i > 0 && utf8[i - 1] != (byte)'\n')
            {
                i--;
            }
            return i;
        }

        public McpConfigException Error(string reason, int offset)
        {
            var (line, column) = JsonSpanTree.Position(utf8, offset);
            return new McpConfigException(reason, line: line, column: column);
        }

        public void RejectDuplicates(JsonSpan obj, string location)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in obj.Properties!)
            {
                if (!seen.Add(property.Name))
                {
                    throw Error($"duplicate key \"{property.Name}\" in \"{location}\"; clients keep only one of them, so remove the other", property.NameStart);
                }
            }
        }

        public byte[] Apply()
        {
            if (_edits.Count == 0)
            {
                return utf8;
            }
            var output = new MemoryStream(utf8.Length + 256);
            var position = 0;
            foreach (var (start, end, text) in _edits.OrderBy(e => e.Start).ThenBy(e => e.End))
            {
                output.Write(utf8, position, start - position);
                output.Write(text);
                position = end;
            }
            output.Write(utf8, position, utf8.Length - position);
            return output.ToArray();
        }
    }
}
