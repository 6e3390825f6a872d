using System.Text;
using Signet.Cli.Config;

namespace Signet.Cli.Tests.Config;

/// <summary>Odd but legal layouts: every one must wrap to valid JSON(C), wrap idempotently and unwrap to the same bytes.</summary>
public sealed class McpConfigLayoutTests
{
    public static TheoryData<string> Layouts() => new()
    {
        """{"mcpServers":{"a":{"command":"x","args":[]}}}""",
        """{"mcpServers":{"a":{"command":"x","args":[ ]}}}""",
        "{\"mcpServers\":{\"a\":{\"command\":\"x\",\"args\":[\n]}}}",
        """{"mcpServers":{"a":{"command":"x"}}}""",
        """{ "mcpServers": { "a": { "command": "x" } } }""",
        """{"mcpServers":{"a":{"args":["1","2"],"command":"x","env":{"K":"V"}}}}""",
        "{\"mcpServers\":{\"a\":{\"command\":\"x\",\"args\":[/* first */ \"1\", /* second */ \"2\"]}}}",
        "{\"mcpServers\":{\"a\":{\"command\":\"x\",\"args\":[\"1\",\"2\",]},}}",
        "{\"mcpServers\": {\n\t\"a\": {\n\t\t// the server\n\t\t\"url\": \"http://h/mcp\",\n\t\t/* block\n\t\t   comment */\n\t\t\"headers\": {\"k\": \"v\"},\n\t},\n}}",
        "{\"mcpServers\": {\"a\": {\"url\": \"http://h/mcp\",\n  \"headers\": {\"k\": \"v\"}}}}",
        "{\"mcpServers\": {\"a\":\n  {\n    \"command\": \"x\"\n  }\n}}",
        "{\"mcpServers\": {\"a\": {\"command\": \"\\u0078\\/y\", \"args\": [\"\\\"q\\\"\", \"é\"]}}}",
        "{\"mcpServers\": {\"caf\u00e9 \\\"1\\\"\": {\"command\": \"x\", \"args\": [\"1\"]}}}",
        "{\"mcpServers\": {}}",
        "{}",
        "// only a comment first\n{\"mcpServers\": {\"a\": {\"command\": \"x\", \"args\": [\"1\"]}}} // and after",
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void WrapUnwrap_OddLayout_ValidIdempotentAndByteIdentical(string config)
    {
        var original = Encoding.UTF8.GetBytes(config);

        var wrapped = McpConfigRewriter.Wrap(original, McpClientApp.Cursor, Samples.Options);
        var again = McpConfigRewriter.Wrap(wrapped.Result, McpClientApp.Cursor, Samples.Options);
        var unwrapped = McpConfigRewriter.Unwrap(wrapped.Result, McpClientApp.Cursor);

        var root = Samples.Parse(wrapped.Result);
        foreach (var server in wrapped.Servers)
        {
            var entry = root["mcpServers"]![server.Name]!;
            Assert.Equal(Samples.Signet, entry["command"]!.GetValue<string>());
            var args = Samples.Args(entry);
            Assert.Equal(["proxy", "--target", McpConfigRewriter.TargetFor(server.Name)], args[..3]);
            var before = Samples.Parse(original)["mcpServers"]![server.Name]!;
            if (before["command"] is { } command)
            {
                Assert.Equal([command.GetValue<string>(), .. before["args"] is { } a ? Samples.Args(before) : []], args[4..]);
            }
        }
        Assert.Equal(wrapped.Result, again.Result);
        Assert.Equal(config, Samples.Text(unwrapped.Result));
    }
}
