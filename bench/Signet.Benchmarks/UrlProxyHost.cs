using Microsoft.Extensions.Logging.Abstractions;
using Signet.Audit;
using Signet.Keys;
using Signet.Mcp.Client;
using Signet.Cli.Proxy;
using Signet.Mcp.Recording;
using Signet.Receipts;

namespace Signet.Benchmarks;

/// <summary>
/// <c>--harness proxy-url-host --engine old|pump --url URL --home DIR [--durability durable|fast] [--max-line-bytes N]</c>: one of the two
/// <c>signet proxy --url</c> engines with the recorder settings the command passes (the home's <c>default</c> key, its
/// audit log, target = the URL, transport <c>http</c>, standard meta key, fail-closed), so both are measured under the same
/// host, JIT and log.
/// </summary>
internal static class UrlProxyHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        var engine = Option(args, "--engine") ?? "old";
        var endpoint = new Uri(Option(args, "--url") ?? throw new ArgumentException("--url URL is required"));
        var home = Option(args, "--home") ?? throw new ArgumentException("--home DIR is required");
        var fast = Option(args, "--durability") == "fast";
        var maxLineBytes = Option(args, "--max-line-bytes") is { } limit ? int.Parse(limit, System.Globalization.CultureInfo.InvariantCulture) : LineProxyOptions.DefaultMaxLineBytes;
        using var key = KeyStore.ForHome(home).Load("default", PassphraseSource.None);
        var audit = AuditLog.Open(Path.Combine(home, "audit"), new AuditLogOptions { Durability = fast ? AuditDurability.Fast : AuditDurability.Durable });
        await using (audit)
        {
            var target = endpoint.ToString();
            if (engine == "pump")
            {
                return await UrlPump.RunAsync(endpoint, null, new Signet.Mcp.SignetOptions
                {
                    Key = key.Key,
                    SignerName = key.Name,
                    SignerOwner = key.Owner,
                    AuditLog = audit,
                    Target = target,
                    Transport = "http",
                    MetaKeyMode = Mcp.ReceiptMetaKeyMode.Standard,
                    FailureMode = RecordingFailureMode.FailClosed,
                }, Console.OpenStandardInput(), Console.OpenStandardOutput());
            }
            var recorder = new ToolCallRecorder(new Signet.Mcp.SignetOptions
            {
                Signer = new ReceiptSigner(key.Key, key.Name, key.Owner),
                AuditLog = audit,
                Target = target,
                Transport = "http",
                LoggerFactory = NullLoggerFactory.Instance,
            });
            return await HttpBackendProxy.RunAsync(new HttpBackendProxyOptions { Endpoint = endpoint, Traffic = new LineProxyOptions { MaxLineBytes = maxLineBytes } }, recorder,
                Console.OpenStandardInput(), Console.OpenStandardOutput());
        }
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
