using System.Diagnostics;
using System.Text.Json.Nodes;
using Signet.Mcp.Tests.Interop;
using Signet.Mcp.Tests;
using Signet.Mcp.Tests.Proxy;

namespace Signet.Cli.Tests.Lifecycle;

/// <summary>
/// A JSON-RPC tool server in node (stdio, or plain HTTP POST) for the lifecycle cases: <c>echo</c> answers at once,
/// <c>hang</c> answers only when it is cancelled (late, as a server whose answer raced the cancellation), <c>exit</c>
/// ends the process without answering. It records each
/// tools/call it got and whether it carried a receipt.
/// </summary>
internal sealed class LifecycleServer : IDisposable
{
    private const string Script = """
        const fs = require('fs');
        const [mode, record] = process.argv.slice(2);
        const hung = new Map();
        function handle(m, reply) {
          if (!m || typeof m !== 'object') return false;
          if (m.method === 'notifications/cancelled') {
            // A server that answers a call it was told to cancel (the cancellation raced its answer).
            const late = hung.get(JSON.stringify(m.params && m.params.requestId));
            if (late) late({ jsonrpc: '2.0', id: m.params.requestId, result: { content: [{ type: 'text', text: 'late answer' }] } });
            return false;
          }
          if (m.method === 'tools/call') {
            const p = m.params || {};
            fs.appendFileSync(record, JSON.stringify({ id: m.id, tool: p.name, signed: !!(p._meta && p._meta['dev.signet/receipt']) }) + '\n');
            if (p.name === 'hang') { hung.set(JSON.stringify(m.id), reply); return true; }
            if (p.name === 'exit') process.exit(0);
          }
          if (m.id === undefined || !m.method) return false;
          reply({ jsonrpc: '2.0', id: m.id, result: m.method === 'initialize'
            ? { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'lifecycle', version: '1' } }
            : { content: [{ type: 'text', text: 'ran ' + (m.params && m.params.name || m.method) }] } });
          return true;
        }
        if (mode === 'stdio') {
          require('readline').createInterface({ input: process.stdin }).on('line', l => {
            let m; try { m = JSON.parse(l); } catch { return; }
            handle(m, r => process.stdout.write(JSON.stringify(r) + '\n'));
          });
        } else {
          const server = require('http').createServer((req, res) => {
            if (req.method !== 'POST') { res.writeHead(req.method === 'DELETE' ? 200 : 405); res.end(); return; }
            const chunks = [];
            req.on('data', c => chunks.push(c));
            req.on('end', () => {
              let m; try { m = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { res.writeHead(400); res.end(); return; }
              // A session, as Streamable HTTP servers give one: its id comes with the answer to initialize.
              const headers = { 'content-type': 'application/json' };
              if (m.method === 'initialize') headers['mcp-session-id'] = 'lifecycle-session';
              const answers = handle(m, r => { res.writeHead(200, headers); res.end(JSON.stringify(r)); });
              if (!answers) { res.writeHead(202); res.end(); }
            });
          });
          server.listen(0, '127.0.0.1', () => process.stderr.write('listening on port ' + server.address().port + '\n'));
        }
        """;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "signet-lifecycle-server-" + Guid.NewGuid().ToString("N"));
    private readonly List<Process> _processes = [];

    public LifecycleServer()
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

    /// <summary>The tools/calls the server got: <c>{id, tool, signed}</c>.</summary>
    public IReadOnlyList<JsonNode> Calls =>
        File.Exists(RecordPath) ? [.. File.ReadAllLines(RecordPath).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!)] : [];

    /// <summary>Starts the HTTP server; returns its endpoint once it listens.</summary>
    public async Task<Uri> StartHttpAsync()
    {
        var info = new ProcessStartInfo(NpmPeers.Node) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(ScriptPath);
        info.ArgumentList.Add("http");
        info.ArgumentList.Add(RecordPath);
        var process = Process.Start(info)!;
        _processes.Add(process);
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
        return new Uri($"http://127.0.0.1:{port}/mcp");
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            try
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
            catch (InvalidOperationException)
            {
                // It has exited already (the exit tool).
            }
            process.Dispose();
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
