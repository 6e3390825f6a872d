using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Signet.Cli.Demo;

/// <summary>
/// The bundled demo MCP tool server (<c>signet demo-server</c>): a few harmless tools, one resource and one prompt,
/// served by the official SDK so that <c>signet demo</c>, the examples and the tests have a real server to sign calls to.
/// </summary>
/// <remarks>
/// Tools: <c>echo</c>, <c>add</c>, <c>lookup_customer</c> (invented records), <c>fail</c> (a result with <c>isError</c>),
/// <c>count</c> (progress notifications when the request carries a progress token). The SDK answers both the
/// <c>initialize</c> handshake (2025-11-25) and <c>server/discover</c> (2026-07-28).
/// </remarks>
internal static partial class DemoServer
{
    /// <summary>The name the server reports in its implementation info.</summary>
    public const string ServerName = "signet-demo";

    /// <summary>The URI of the one resource: every demo customer record as JSON.</summary>
    public const string CustomersResourceUri = "demo://customers";

    /// <summary>The name of the one prompt.</summary>
    public const string SummarizePromptName = "summarize_customer";

    /// <summary>The largest <c>to</c> the <c>count</c> tool accepts.</summary>
    public const int MaxCount = 1000;

    /// <summary>The largest <c>delay_ms</c> the <c>count</c> tool accepts.</summary>
    public const int MaxDelayMilliseconds = 10_000;

    /// <summary>Serves the demo server on stdin/stdout until the client disconnects or <paramref name="cancellationToken"/> fires.</summary>
    public static Task RunStdioAsync(ILoggerFactory loggerFactory, TimeProvider time, CancellationToken cancellationToken) =>
        RunAsync(new StdioServerTransport(ServerName, loggerFactory), loggerFactory, time, cancellationToken);

    /// <summary>Serves the demo server on a transport until it disconnects or <paramref name="cancellationToken"/> fires.</summary>
    public static async Task RunAsync(ITransport transport, ILoggerFactory loggerFactory, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transport);
        var logger = loggerFactory.CreateLogger(typeof(DemoServer));
        await using (transport.ConfigureAwait(false))
        {
            var server = McpServer.Create(transport, CreateOptions(logger, time), loggerFactory);
            await using (server.ConfigureAwait(false))
            {
                LogStarted(logger, ServerName, Version);
                await server.RunAsync(cancellationToken).ConfigureAwait(false);
                LogStopped(logger);
            }
        }
    }

    /// <summary>The server options: implementation info, capabilities and the handlers for tools, resources and prompts.</summary>
    public static McpServerOptions CreateOptions(ILogger? logger = null, TimeProvider? time = null)
    {
        logger ??= NullLogger.Instance;
        time ??= TimeProvider.System;
        return new McpServerOptions
        {
            ServerInfo = new Implementation { Name = ServerName, Version = Version },
            ServerInstructions = "Demo tool server bundled with Signet. Its customer records are invented.",
            Capabilities = new ServerCapabilities
            {
                Tools = new ToolsCapability(),
                Resources = new ResourcesCapability(),
                Prompts = new PromptsCapability(),
            },
            Handlers = new McpServerHandlers
            {
                ListToolsHandler = (_, _) => ValueTask.FromResult(new ListToolsResult { Tools = Tools }),
                CallToolHandler = (request, ct) => CallToolAsync(request, logger, time, ct),
                ListResourcesHandler = (_, _) => ValueTask.FromResult(new ListResourcesResult { Resources = [CustomersResource] }),
                ReadResourceHandler = (request, _) => ValueTask.FromResult(ReadResource(request.Params?.Uri)),
                ListPromptsHandler = (_, _) => ValueTask.FromResult(new ListPromptsResult { Prompts = [SummarizePrompt] }),
                GetPromptHandler = (request, _) => ValueTask.FromResult(GetPrompt(request.Params)),
            },
        };
    }

    private static string Version { get; } =
        typeof(DemoServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private static readonly Tool[] Tools =
    [
        NewTool("echo", "Returns the message it is given.",
            """{"type":"object","properties":{"message":{"type":"string","description":"Text to echo back"}},"required":["message"]}"""),
        NewTool("add", "Adds two numbers.",
            """{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}"""),
        NewTool("lookup_customer", "Looks up a demo customer record by id (the records are invented: C-1001, C-1002, C-1003).",
            """{"type":"object","properties":{"id":{"type":"string","description":"Customer id, e.g. C-1001"}},"required":["id"]}"""),
        NewTool("fail", "Always fails: returns a tool result with isError set, carrying the reason.",
            """{"type":"object","properties":{"reason":{"type":"string"}},"required":["reason"]}"""),
        NewTool("count", "Counts from 1 to 'to', waiting 'delay_ms' between steps, and reports each step as progress when the request asks for it.",
            $$$"""{"type":"object","properties":{"to":{"type":"integer","minimum":1,"maximum":{{{MaxCount}}}},"delay_ms":{"type":"integer","minimum":0,"maximum":{{{MaxDelayMilliseconds}}},"default":0}},"required":["to"]}"""),
    ];

    private static readonly Resource CustomersResource = new()
    {
        Uri = CustomersResourceUri,
        Name = "customers",
        Description = "Every demo customer record (invented data), as a JSON array.",
        MimeType = "application/json",
    };

    private static readonly Prompt SummarizePrompt = new()
    {
        Name = SummarizePromptName,
        Description = "Asks the model to summarize one demo customer's account.",
        Arguments = [new PromptArgument { Name = "id", Description = "Customer id, e.g. C-1001", Required = true }],
    };

    private static Tool NewTool(string name, string description, string inputSchema) => new()
    {
        Name = name,
        Description = description,
        InputSchema = ParseElement(inputSchema),
    };

    /// <summary>The arguments as compact JSON, written element by element (no reflection-based serializer: trim-safe).</summary>
    private static string ArgumentsText(IDictionary<string, JsonElement>? arguments)
    {
        if (arguments is null)
        {
            return "null";
        }
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in arguments)
            {
                writer.WritePropertyName(name);
                value.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static async ValueTask<CallToolResult> CallToolAsync(
        RequestContext<CallToolRequestParams> request, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        var call = request.Params ?? throw new McpProtocolException("tools/call needs params", McpErrorCode.InvalidParams);
        LogToolCall(logger, call.Name);
        if (logger.IsEnabled(LogLevel.Trace))
        {
            LogToolArguments(logger, call.Name, ArgumentsText(call.Arguments));
        }
        var args = new ToolArguments(call.Arguments);
        try
        {
            return call.Name switch
            {
                "echo" => Text(args.RequiredString("message")),
                "add" => Add(args.RequiredNumber("a"), args.RequiredNumber("b")),
                "lookup_customer" => LookupCustomer(args.RequiredString("id")),
                "fail" => Error("Failed as asked: " + args.RequiredString("reason")),
                "count" => await CountAsync(request, args, time, cancellationToken).ConfigureAwait(false),
                _ => throw new McpProtocolException($"Unknown tool '{call.Name}'. Tools: echo, add, lookup_customer, fail, count.", McpErrorCode.InvalidParams),
            };
        }
        catch (ToolArgumentException e)
        {
            // Bad arguments are a tool error the model can read and correct, not a protocol error.
            return Error(e.Message);
        }
    }

    private static CallToolResult Add(double a, double b)
    {
        var sum = a + b;
        if (!double.IsFinite(sum))
        {
            return Error("The sum is not a finite number.");
        }
        return new CallToolResult
        {
            Content = [new TextContentBlock { Text = sum.ToString("R", CultureInfo.InvariantCulture) }],
            StructuredContent = ToElement(new JsonObject { ["sum"] = sum }),
        };
    }

    private static CallToolResult LookupCustomer(string id)
    {
        var record = DemoCustomers.Find(id);
        if (record is null)
        {
            return Error($"No customer with id '{id}'. Known ids: {string.Join(", ", DemoCustomers.Ids)}.");
        }
        return new CallToolResult
        {
            Content = [new TextContentBlock { Text = record.ToJsonString() }],
            StructuredContent = ToElement(record),
        };
    }

    private static async Task<CallToolResult> CountAsync(
        RequestContext<CallToolRequestParams> request, ToolArguments args, TimeProvider time, CancellationToken cancellationToken)
    {
        var to = args.RequiredInteger("to", 1, MaxCount);
        var delay = args.OptionalInteger("delay_ms", 0, MaxDelayMilliseconds) ?? 0;
        var token = request.Params?.ProgressToken;
        var notified = 0;
        for (var i = 1; i <= to; i++)
        {
            if (delay > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(delay), time, cancellationToken).ConfigureAwait(false);
            }
            if (token is { } progressToken)
            {
                var step = new ProgressNotificationValue { Progress = i, Total = to, Message = $"{i}/{to}" };
                await request.Server.NotifyProgressAsync(progressToken, step, cancellationToken: cancellationToken).ConfigureAwait(false);
                notified++;
            }
        }
        return new CallToolResult
        {
            Content = [new TextContentBlock { Text = $"Counted to {to}." }],
            StructuredContent = ToElement(new JsonObject { ["counted"] = to, ["progress_notifications"] = notified }),
        };
    }

    private static ReadResourceResult ReadResource(string? uri)
    {
        if (!string.Equals(uri, CustomersResourceUri, StringComparison.Ordinal))
        {
            throw new McpProtocolException($"Unknown resource '{uri}'. The demo server has one: {CustomersResourceUri}.", McpErrorCode.ResourceNotFound);
        }
        return new ReadResourceResult
        {
            Contents = [new TextResourceContents { Uri = CustomersResourceUri, MimeType = "application/json", Text = DemoCustomers.All().ToJsonString() }],
        };
    }

    private static GetPromptResult GetPrompt(GetPromptRequestParams? request)
    {
        if (request is null || !string.Equals(request.Name, SummarizePromptName, StringComparison.Ordinal))
        {
            throw new McpProtocolException($"Unknown prompt '{request?.Name}'. The demo server has one: {SummarizePromptName}.", McpErrorCode.InvalidParams);
        }
        string? id = null;
        if (request.Arguments?.TryGetValue("id", out var value) == true && value.ValueKind == JsonValueKind.String)
        {
            id = value.GetString();
        }
        var record = id is null ? null : DemoCustomers.Find(id);
        if (record is null)
        {
            throw new McpProtocolException(
                $"Prompt '{SummarizePromptName}' needs argument 'id', one of: {string.Join(", ", DemoCustomers.Ids)}.", McpErrorCode.InvalidParams);
        }
        return new GetPromptResult
        {
            Description = $"Summarize customer {id}",
            Messages =
            [
                new PromptMessage
                {
                    Role = Role.User,
                    Content = new TextContentBlock { Text = $"Summarize this customer's account in two sentences: {record.ToJsonString()}" },
                },
            ],
        };
    }

    private static JsonElement ToElement(JsonNode node) => ParseElement(node.ToJsonString());

    private static JsonElement ParseElement(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static CallToolResult Text(string text) => new() { Content = [new TextContentBlock { Text = text }] };

    private static CallToolResult Error(string message) => new() { Content = [new TextContentBlock { Text = message }], IsError = true };

    [LoggerMessage(Level = LogLevel.Information, Message = "{ServerName} {Version} serving MCP on stdio")]
    private static partial void LogStarted(ILogger logger, string serverName, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Client disconnected; demo server stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "tools/call {ToolName}")]
    private static partial void LogToolCall(ILogger logger, string toolName);

    [LoggerMessage(Level = LogLevel.Trace, Message = "tools/call {ToolName} arguments {Arguments}")]
    private static partial void LogToolArguments(ILogger logger, string toolName, string arguments);
}
