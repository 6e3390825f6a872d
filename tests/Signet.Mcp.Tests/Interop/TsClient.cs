using System.Text.Json.Nodes;

namespace Signet.Mcp.Tests.Interop;

/// <summary>A finished ts-client.mjs run: the process result and, when it succeeded, its JSON document.</summary>
internal sealed record TsClientRun(ProcessResult Process, JsonObject? Document)
{
    /// <summary>The document of a successful run; fails the test with the client's output otherwise.</summary>
    public JsonObject Succeeded()
    {
        Assert.True(Process.ExitCode == 0 && Document is not null, $"ts-client failed: {Process}");
        return Document!;
    }
}

/// <summary>Runs tests/interop/ts-client.mjs (the official TS SDK client) against a stdio command or a Streamable HTTP URL.</summary>
internal static class TsClient
{
    /// <summary>Runs <paramref name="scenario"/> against the stdio server <c>COMMAND ARGS…</c>; the child inherits the environment plus <paramref name="environment"/>.</summary>
    public static Task<TsClientRun> StdioAsync(
        string scenario,
        IEnumerable<string> scenarioArguments,
        string command,
        IEnumerable<string> commandArguments,
        IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        RunAsync([scenario, .. scenarioArguments, .. TimeoutOption(timeout), "--stdio", "--", command, .. commandArguments], environment, timeout, cancellationToken);

    /// <summary>Runs <paramref name="scenario"/> against a Streamable HTTP endpoint, with extra request headers (<c>Name: value</c>).</summary>
    public static Task<TsClientRun> HttpAsync(
        string scenario,
        IEnumerable<string> scenarioArguments,
        Uri url,
        IEnumerable<string>? headers = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(
            [scenario, .. scenarioArguments, .. TimeoutOption(timeout), "--http", url.ToString(), .. (headers ?? []).SelectMany(h => new[] { "--header", h })],
            environment: null, timeout, cancellationToken);

    private static async Task<TsClientRun> RunAsync(
        string[] arguments, IReadOnlyDictionary<string, string?>? environment, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        // The script's own timer fires first and reports which scenario hung; the runner's limit is the backstop.
        var limit = (timeout ?? ProcessRunner.DefaultTimeout) + TimeSpan.FromSeconds(10);
        var result = await ProcessRunner.RunAsync(
            NpmPeers.Node, [NpmPeers.TsClient, .. arguments], environment, NpmPeers.InteropDirectory, timeout: limit, cancellationToken: cancellationToken);
        JsonObject? document = null;
        if (result.ExitCode == 0)
        {
            document = JsonNode.Parse(result.Stdout) as JsonObject
                ?? throw new Xunit.Sdk.XunitException($"ts-client printed no JSON object: {result}");
        }
        return new TsClientRun(result, document);
    }

    private static string[] TimeoutOption(TimeSpan? timeout) =>
        ["--timeout-ms", ((long)(timeout ?? ProcessRunner.DefaultTimeout).TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture)];
}
