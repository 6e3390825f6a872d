using Microsoft.Extensions.Configuration;

namespace Signet.Bridge;

/// <summary>Reads and checks bridge configuration: a JSON file (or any configuration section) with the shape of <see cref="BridgeOptions"/>.</summary>
public static class BridgeConfig
{
    /// <summary>The default listen address: loopback only.</summary>
    public const string DefaultListen = "127.0.0.1:8787";

    /// <summary>Loads a bridge config file (JSON; comments and trailing commas allowed). Errors name the file and the field.</summary>
    public static BridgeOptions Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new SignetException($"bridge config '{path}' does not exist");
        }
        IConfigurationRoot root;
        try
        {
            root = new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(path), optional: false, reloadOnChange: false).Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            throw new SignetException($"bridge config '{path}' is not valid JSON: {(e.InnerException ?? e).Message}", e);
        }
        return Bind(root, path);
    }

    /// <summary>Binds a configuration section (for example <c>Bridge</c> in appsettings.json); unknown keys are errors, so typos do not pass silently.</summary>
    public static BridgeOptions Bind(IConfiguration section, string source)
    {
        var options = new BridgeOptions();
        BindInto(section, options, source);
        try
        {
            ValidateStructure(options);
        }
        catch (SignetException e)
        {
            throw new SignetException($"bridge config '{source}': {e.Message}", e);
        }
        return options;
    }

    /// <summary>Binds <paramref name="section"/> onto <paramref name="options"/>; unknown keys and a keyed 'backends' object are errors.</summary>
    internal static void BindInto(IConfiguration section, BridgeOptions options, string source)
    {
        try
        {
            // Recording's objects (a key, a sink, callbacks) come from code, not configuration: the binder skips them (see
            // the project's NoWarn), and binds the policies (FailureMode, MetaKeyMode, RequireCoSignature, SyncResponseReceipts, …).
            section.Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            // The binder puts the useful part (which key, on which object) in the innermost exception.
            var inner = e;
            while (inner.InnerException is InvalidOperationException next)
            {
                inner = next;
            }
            var message = inner.Message.Replace("'ErrorOnUnknownConfiguration' was set on the provided BinderOptions, but the ", "", StringComparison.Ordinal);
            throw new SignetException($"bridge config '{source}': {message} (check the spelling; see docs/bridge.md for the keys)", e);
        }
        // An object keyed by name instead of an array binds to nothing useful; say so instead of serving no backends.
        foreach (var child in section.GetSection("Backends").GetChildren())
        {
            var index = int.TryParse(child.Key, out var i) ? i : -1;
            if (index < 0)
            {
                throw new SignetException($"bridge config '{source}': 'backends' must be an array of objects with a 'name'");
            }
        }
    }

    /// <summary>Checks options (the token included) and fills defaults; throws <see cref="SignetException"/> naming the field that is wrong.</summary>
    public static void Validate(BridgeOptions options)
    {
        ValidateStructure(options);
        if (!options.DisableAuthenticationOnLoopback && string.IsNullOrWhiteSpace(options.Token))
        {
            throw new SignetException("a bearer token is required (token file or SIGNET_BRIDGE_TOKEN)");
        }
    }

    /// <summary>Everything but the token, which never comes from a config file (and which a host with its own authorization may leave unset).</summary>
    internal static void ValidateStructure(BridgeOptions options)
    {
        if (options.Listen.Count == 0)
        {
            options.Listen.Add(DefaultListen);
        }
        var listen = options.Listen.Select(ListenAddress.Parse).ToList();
        if (options.DisableAuthenticationOnLoopback && !listen.All(l => l.IsLoopback))
        {
            throw new SignetException("authentication can be disabled only when every listen address is loopback");
        }
        if (options.PublicUrl is { } publicUrl && (!Uri.TryCreate(publicUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            throw new SignetException($"publicUrl '{publicUrl}' is not an absolute http(s) URL");
        }
        if (options.Backends.Count == 0)
        {
            throw new SignetException("no backends: give a command after '--' or list them under 'backends'");
        }
        var paths = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Backends.Count; i++)
        {
            var backend = options.Backends[i];
            var field = $"backends[{i}]";
            if (string.IsNullOrWhiteSpace(backend.Name) || !backend.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                throw new SignetException($"{field}.name must be letters, digits, '-', '_' or '.' (it becomes the path /mcp/<name>)");
            }
            if ((backend.Command is null) == (backend.Url is null))
            {
                throw new SignetException($"{field} ('{backend.Name}') needs exactly one of 'command' (a stdio server) or 'url' (a Streamable HTTP server)");
            }
            if (backend.Url is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https")))
            {
                throw new SignetException($"{field}.url '{url}' is not an absolute http(s) URL");
            }
            if (backend.Path is { } path && (!path.StartsWith('/') || path == "/healthz"))
            {
                throw new SignetException($"{field}.path '{path}' must start with '/' and must not be /healthz");
            }
            if (!paths.Add(PathOf(backend, options.Backends.Count)))
            {
                throw new SignetException($"{field} ('{backend.Name}') has the same path as another backend");
            }
        }
        var limits = options.Limits;
        if (limits.MaxSessions < 1 || limits.MaxRequestBodyBytes < 1024 || limits.MaxBackendMessageBytes < 1024
            || limits.SessionIdleTimeout <= TimeSpan.Zero || limits.KeepAliveInterval <= TimeSpan.Zero || limits.ChildShutdownTimeout < TimeSpan.Zero)
        {
            throw new SignetException("limits: maxSessions must be at least 1, byte limits at least 1024, and times positive");
        }
    }

    /// <summary>The URL path of a backend: its own path, else <c>/mcp</c> when it is the only one, else <c>/mcp/&lt;name&gt;</c>.</summary>
    public static string PathOf(BridgeBackendOptions backend, int backendCount) => PathOf(backend, backendCount, "/mcp");

    /// <summary>The URL path of a backend mounted under <paramref name="prefix"/> (<c>MapSignetBridge(prefix)</c>).</summary>
    internal static string PathOf(BridgeBackendOptions backend, int backendCount, string prefix)
    {
        prefix = prefix.TrimEnd('/');
        var path = (backend.Path ?? (backendCount == 1 && backend.Name == "default" ? prefix : prefix + "/" + backend.Name)).TrimEnd('/');
        return path.Length == 0 ? "/" : path;
    }
}
