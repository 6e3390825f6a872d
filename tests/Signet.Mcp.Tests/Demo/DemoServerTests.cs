using System.Collections.Concurrent;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Signet.Mcp.Tests.Interop;

namespace Signet.Mcp.Tests.Demo;

/// <summary>The demo server as a real child process (<c>dotnet signet.dll demo-server</c>) driven by the SDK's own client.</summary>
public sealed class DemoServerTests(DemoServerFixture server) : IClassFixture<DemoServerFixture>
{
    private static CancellationToken Timeout => new CancellationTokenSource(ProcessRunner.DefaultTimeout).Token;

    private McpClient Client => server.Client;

    [Fact]
    public async Task ListTools_RealChild_ReturnsTheFiveToolsWithSchemas()
    {
        var tools = await Client.ListToolsAsync(cancellationToken: Timeout);

        Assert.Equal(["add", "count", "echo", "fail", "lookup_customer"], tools.Select(t => t.Name).Order(StringComparer.Ordinal));
        var echo = tools.Single(t => t.Name == "echo");
        Assert.Equal("message", echo.ProtocolTool.InputSchema.GetProperty("required")[0].GetString());
        Assert.Equal("signet-demo", Client.ServerInfo?.Name);
    }

    [Fact]
    public async Task CallTool_Echo_ReturnsTheMessage()
    {
        var result = await Client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hello <&> ü 😀" }, cancellationToken: Timeout);

        Assert.NotEqual(true, result.IsError);
        Assert.Equal("hello <&> ü 😀", Text(result));
    }

    [Fact]
    public async Task CallTool_Add_ReturnsTheSumAsTextAndStructuredContent()
    {
        var result = await Client.CallToolAsync("add", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 40.5 }, cancellationToken: Timeout);

        Assert.NotEqual(true, result.IsError);
        Assert.Equal("42.5", Text(result));
        Assert.Equal(42.5, result.StructuredContent!.Value.GetProperty("sum").GetDouble());
    }

    [Fact]
    public async Task CallTool_AddWithStringArgument_ReturnsToolErrorNamingTheArgument()
    {
        var result = await Client.CallToolAsync("add", new Dictionary<string, object?> { ["a"] = "2", ["b"] = 1 }, cancellationToken: Timeout);

        Assert.True(result.IsError);
        Assert.Contains("'a' must be a finite number", Text(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallTool_LookupCustomerKnownId_ReturnsTheRecord()
    {
        var result = await Client.CallToolAsync("lookup_customer", new Dictionary<string, object?> { ["id"] = "C-1001" }, cancellationToken: Timeout);

        Assert.NotEqual(true, result.IsError);
        var record = result.StructuredContent!.Value;
        Assert.Equal("C-1001", record.GetProperty("id").GetString());
        Assert.Equal("Ada Lovelace", record.GetProperty("name").GetString());
        Assert.Equal("Ada Lovelace", JsonDocument.Parse(Text(result)).RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public async Task CallTool_LookupCustomerUnknownId_ReturnsToolErrorListingKnownIds()
    {
        var result = await Client.CallToolAsync("lookup_customer", new Dictionary<string, object?> { ["id"] = "C-9" }, cancellationToken: Timeout);

        Assert.True(result.IsError);
        Assert.Contains("No customer with id 'C-9'", Text(result), StringComparison.Ordinal);
        Assert.Contains("C-1002", Text(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallTool_Fail_ReturnsIsErrorWithTheReason()
    {
        var result = await Client.CallToolAsync("fail", new Dictionary<string, object?> { ["reason"] = "disk on fire" }, cancellationToken: Timeout);

        Assert.True(result.IsError);
        Assert.Equal("Failed as asked: disk on fire", Text(result));
    }

    [Fact]
    public async Task CallTool_CountWithProgress_ReportsEveryStepInOrder()
    {
        // A session-wide handler rather than CallToolAsync's IProgress: the SDK client unregisters the per-call handler
        // when the response arrives and can drop a last notification that is still being dispatched.
        var token = new ProgressToken("count-" + Guid.NewGuid().ToString("N"));
        var progress = new ProgressCollector(token, expected: 5);
        await using var registration = Client.RegisterNotificationHandler(NotificationMethods.ProgressNotification, progress.OnNotificationAsync);

        var result = await Client.CallToolAsync(
            "count", new Dictionary<string, object?> { ["to"] = 5, ["delay_ms"] = 1 }, options: new RequestOptions { ProgressToken = token }, cancellationToken: Timeout);

        Assert.NotEqual(true, result.IsError);
        Assert.Equal("Counted to 5.", Text(result));
        Assert.Equal(5, result.StructuredContent!.Value.GetProperty("progress_notifications").GetInt32());
        var steps = await progress.All.WaitAsync(ProcessRunner.DefaultTimeout);
        Assert.Equal([1f, 2f, 3f, 4f, 5f], steps.Select(s => s.Progress.Progress));
        Assert.All(steps, s => Assert.Equal(5f, s.Progress.Total));
        Assert.Equal("3/5", steps[2].Progress.Message);
    }

    [Fact]
    public async Task CallTool_CountWithoutProgressToken_SendsNoProgress()
    {
        var result = await Client.CallToolAsync("count", new Dictionary<string, object?> { ["to"] = 3 }, cancellationToken: Timeout);

        Assert.Equal(0, result.StructuredContent!.Value.GetProperty("progress_notifications").GetInt32());
        Assert.Equal(3, result.StructuredContent!.Value.GetProperty("counted").GetInt32());
    }

    [Fact]
    public async Task CallTool_CountOutOfRange_ReturnsToolError()
    {
        // One above the demo server's maximum count (DemoServer.MaxCount in the CLI).
        var result = await Client.CallToolAsync("count", new Dictionary<string, object?> { ["to"] = 1001 }, cancellationToken: Timeout);

        Assert.True(result.IsError);
        Assert.Contains("'to' must be an integer from 1 to", Text(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallTool_UnknownTool_ThrowsInvalidParams()
    {
        var error = await Assert.ThrowsAsync<McpProtocolException>(
            async () => await Client.CallToolAsync("no_such_tool", cancellationToken: Timeout));

        Assert.Equal(McpErrorCode.InvalidParams, error.ErrorCode);
        Assert.Contains("Unknown tool 'no_such_tool'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallTool_SixteenConcurrentEchoes_EachGetsItsOwnAnswer()
    {
        var calls = Enumerable.Range(0, 16).Select(async i =>
            (i, Text(await Client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"m{i}" }, cancellationToken: Timeout))));

        foreach (var (i, text) in await Task.WhenAll(calls))
        {
            Assert.Equal($"m{i}", text);
        }
    }

    [Fact]
    public async Task ReadResource_Customers_ReturnsEveryRecordAsJson()
    {
        var resources = await Client.ListResourcesAsync(cancellationToken: Timeout);
        var resource = Assert.Single(resources);
        Assert.Equal("demo://customers", resource.Uri);

        var read = await Client.ReadResourceAsync(resource.Uri, cancellationToken: Timeout);

        var contents = Assert.IsType<TextResourceContents>(Assert.Single(read.Contents));
        Assert.Equal("application/json", contents.MimeType);
        var ids = JsonDocument.Parse(contents.Text).RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetString());
        Assert.Equal(["C-1001", "C-1002", "C-1003"], ids);
    }

    [Fact]
    public async Task ReadResource_UnknownUri_ThrowsResourceNotFound()
    {
        var error = await Assert.ThrowsAsync<McpProtocolException>(
            async () => await Client.ReadResourceAsync("demo://nothing", cancellationToken: Timeout));

        Assert.Equal(McpErrorCode.ResourceNotFound, error.ErrorCode);
    }

    [Fact]
    public async Task GetPrompt_SummarizeCustomer_EmbedsTheRecord()
    {
        var prompts = await Client.ListPromptsAsync(cancellationToken: Timeout);
        var prompt = Assert.Single(prompts);
        Assert.Equal("summarize_customer", prompt.Name);
        Assert.True(Assert.Single(prompt.ProtocolPrompt.Arguments!).Required);

        var result = await Client.GetPromptAsync("summarize_customer", new Dictionary<string, object?> { ["id"] = "C-1002" }, cancellationToken: Timeout);

        var message = Assert.Single(result.Messages);
        Assert.Equal(Role.User, message.Role);
        Assert.Contains("Grace Hopper", Assert.IsType<TextContentBlock>(message.Content).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetPrompt_UnknownCustomer_ThrowsInvalidParams()
    {
        var error = await Assert.ThrowsAsync<McpProtocolException>(
            async () => await Client.GetPromptAsync("summarize_customer", new Dictionary<string, object?> { ["id"] = "C-0" }, cancellationToken: Timeout));

        Assert.Equal(McpErrorCode.InvalidParams, error.ErrorCode);
    }

    [Fact]
    public async Task Logs_ToolCall_GoToStandardError()
    {
        await Client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "log me" }, cancellationToken: Timeout);

        var line = await server.StderrLineAsync(l => l.Contains("tools/call echo", StringComparison.Ordinal)).WaitAsync(ProcessRunner.DefaultTimeout);
        Assert.StartsWith("signet demo-server: [INF]", line, StringComparison.Ordinal);
    }

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;

    /// <summary>Collects the progress notifications for one token and completes once the expected number arrived.</summary>
    private sealed class ProgressCollector(ProgressToken token, int expected)
    {
        private readonly ConcurrentQueue<ProgressNotificationParams> values = new();
        private readonly TaskCompletionSource<ProgressNotificationParams[]> all = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<ProgressNotificationParams[]> All => all.Task;

        public ValueTask OnNotificationAsync(JsonRpcNotification notification, CancellationToken cancellationToken)
        {
            var value = notification.Params.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo<ProgressNotificationParams>());
            if (value is not null && value.ProgressToken.Equals(token))
            {
                values.Enqueue(value);
                if (values.Count >= expected)
                {
                    all.TrySetResult([.. values.OrderBy(v => v.Progress.Progress)]);
                }
            }
            return ValueTask.CompletedTask;
        }
    }
}
