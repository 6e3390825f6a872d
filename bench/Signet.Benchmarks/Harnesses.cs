namespace Signet.Benchmarks;

/// <summary>End-to-end measurement harnesses (real processes, real files), selected with <c>--harness NAME</c>.</summary>
internal static class Harnesses
{
    public static async Task<int> RunAsync(string name, string[] args)
    {
        Func<string[], Task<int>>? run = name switch
        {
            "proxy" => ProxyHarness.RunAsync,
            "proxy-host" => ProxyHost.RunAsync,
            "proxy-url" => UrlProxyHarness.RunAsync,
            "proxy-url-host" => UrlProxyHost.RunAsync,
            "proxy-url-shapes" => UrlShapesProbe.RunAsync,
            "audit" => AuditHarness.RunAsync,
            "audit-profile" => AuditProfile.RunAsync,
            "tree" => TreeHarness.RunAsync,
            "transport" => TransportHarness.RunAsync,
            "recorder" => RecorderHarness.RunAsync,
            "bridge" => BridgeHarness.RunAsync,
            "witness" => WitnessHarness.RunAsync,
            "agent" => AgentHarness.RunAsync,
            _ => null,
        };
        if (run is null)
        {
            await Console.Error.WriteLineAsync($"unknown harness '{name}'");
            return 2;
        }
        return await run(args);
    }
}
