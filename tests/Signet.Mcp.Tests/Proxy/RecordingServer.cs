using System.Diagnostics;
using System.Text.Json.Nodes;
using Signet.Mcp.Tests.Interop;

namespace Signet.Mcp.Tests.Proxy;

/// <summary>
/// A generic JSON-RPC server in node (stdio or plain HTTP POST): it runs every request it can parse, whatever its
/// shape, as a lenient server would, and records for each message it got its method and whether it carried a receipt.
/// </summary>
internal sealed class RecordingServer : IDisposable
{
    private const string Script = """
        const fs = require('fs');
        const [mode, record] = process.argv.slice(2);
        function handle(text) {
          let m;
          try { m = JSON.parse(text); } catch { fs.appendFileSync(record, JSON.stringify({ unparsed: true }) + '\n'); return { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }; }
          const all = Array.isArray(m) ? m : [m];
          const replies = [];
          for (const x of all) {
            const p = x && x.params;
            const signed = !!(p && typeof p === 'object' && p._meta && p._meta['dev.signet/receipt']);
            fs.appendFileSync(record, JSON.stringify({ method: x && x.method, signed }) + '\n');
            if (x && x.id !== undefined && x.method) {
              replies.push({ jsonrpc: '2.0', id: x.id, result: x.method === 'initialize'
                ? { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'recording', version: '1' } }
                : { content: [{ type: 'text', text: 'ran ' + x.method }] } });
            }
          }
          return Array.isArray(m) ? (replies.length ? replies : undefined) : replies[0];
        }
        if (mode === 'stdio') {
          require('readline').createInterface({ input: process.stdin }).on('line', l => {
            const r = handle(l);
            if (r) process.stdout.write(JSON.stringify(r) + '\n');
          });
        } else {
          const server = require('http').createServer((req, res) => {
            if (req.method !== 'POST') { res.writeHead(req.method === 'DELETE' ? 200 : 405); res.end(); return; }
            const chunks = [];
            req.on('data', c => chunks.push(c));
            req.on('end', () => {
              const r = handle(Buffer.concat(chunks).toString('utf8'));
              if (r) { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(r)); }
              else { res.writeHead(202); res.end(); }
            });
          });
          server.listen(0, '127.0.0.1', () => process.stderr.write('listening on port ' + server.address().port + '\n'));
        }
        """;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "signet-recording-server-" + Guid.NewGuid().ToString("N"));

    public RecordingServer()
    {
        Directory.CreateDirectory(_directory);
        ScriptPath = Path.Combine(_directory, "server.js");
        RecordPath = Path.Combine(_directory, "received.jsonl");
        File.WriteAllText(ScriptPath, Script);
    }

    public string ScriptPath { get; }

    public string RecordPath { get; }

    /// <summary>The command line of the stdio server.</summary>
    public (string Command, string[] Arguments) Stdio => (NpmPeers.Node, [ScriptPath, "stdio", RecordPath]);

    /// <summary>What the server got: one entry per message, <c>{method, signed}</c> or <c>{unparsed: true}</c>.</summary>
    public IReadOnlyList<JsonNode> Received =>
        File.Exists(RecordPath) ? [.. File.ReadAllLines(RecordPath).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!)] : [];

    /// <summary>Starts the HTTP server; returns once it listens.</summary>
    public async Task<(Process Process, Uri Endpoint)> StartHttpAsync()
    {
        var info = new ProcessStartInfo(NpmPeers.Node) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(ScriptPath);
        info.ArgumentList.Add("http");
        info.ArgumentList.Add(RecordPath);
        var process = Process.Start(info)!;
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            const string marker = "listening on port ";
            if (e.Data is { } line && line.StartsWith(marker, StringComparison.Ordinal))
            {
                listening.TrySetResult(int.Parse(line[marker.Length..], System.Globalization.CultureInfo.InvariantCulture));
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var port = await listening.Task.WaitAsync(TestTimeout.Value);
        return (process, new Uri($"http://127.0.0.1:{port}/mcp"));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
