using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Signet.Mcp.Tests.Interop;

namespace Signet.Bridge.Tests;

/// <summary>
/// Tool servers that write every message they receive to a file, byte for byte, one per line: a stdio server (JavaScript
/// id handling, or echoing each numeric id's lexeme exactly) and a Streamable HTTP server.
/// </summary>
internal sealed class RecordingBackends : IDisposable
{
    private const string StdioServer = """
        const fs = require('fs');
        const [log, mode] = process.argv.slice(2);
        let buffer = Buffer.alloc(0);
        const write = (line) => process.stdout.write(line + '\n');
        const idText = (line, msg) => {
          if (mode === 'exact') { const m = /"id"\s*:\s*(-?[0-9][0-9.eE+-]*)/.exec(line); if (m) return m[1]; }
          return JSON.stringify(msg.id);
        };
        const answer = (line, msg) => {
          const id = idText(line, msg);
          if (msg.method === 'initialize') {
            write(`{"jsonrpc":"2.0","id":${id},"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"recording","version":"1"}}}`);
          } else if (msg.method === 'tools/call') {
            const name = msg.params && msg.params.name;
            if (name === 'bad-utf8') {
              process.stdout.write(Buffer.concat([Buffer.from(`{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"z`), Buffer.from([0xff]), Buffer.from('"}]}}\n')]));
            } else if (name === 'slow') {
              // Never answers: the client cancels it.
            } else {
              write(`{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":${JSON.stringify('ran ' + name)}}]}}`);
            }
          } else if (msg.id !== undefined) {
            write(`{"jsonrpc":"2.0","id":${id},"result":{}}`);
          }
        };
        process.stdin.on('data', (chunk) => {
          buffer = Buffer.concat([buffer, chunk]);
          let i;
          while ((i = buffer.indexOf(10)) >= 0) {
            const line = buffer.subarray(0, i);
            buffer = buffer.subarray(i + 1);
            fs.appendFileSync(log, Buffer.concat([line, Buffer.from('\n')]));
            let msg;
            try { msg = JSON.parse(line.toString('utf8')); } catch { write('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}'); continue; }
            for (const m of Array.isArray(msg) ? msg : [msg]) answer(line.toString('utf8'), m);
          }
        });
        process.stdin.on('end', () => process.exit(0));
        """;

    private const string HttpServer = """
        const fs = require('fs');
        const http = require('http');
        const [log, port] = process.argv.slice(2);
        const reply = (m) => {
          if (m.id === undefined) return null;
          if (m.method === 'initialize') return { jsonrpc: '2.0', id: m.id, result: { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'recording-http', version: '1' } } };
          if (m.method === 'tools/call') return { jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: 'ran ' + (m.params && m.params.name) }] } };
          return { jsonrpc: '2.0', id: m.id, result: {} };
        };
        http.createServer((req, res) => {
          const chunks = [];
          req.on('data', (c) => chunks.push(c));
          req.on('end', () => {
            if (req.method !== 'POST') { res.writeHead(405); res.end(); return; }
            const body = Buffer.concat(chunks);
            fs.appendFileSync(log, Buffer.concat([Buffer.from(body.toString('utf8').replace(/[\r\n]/g, ' ')), Buffer.from('\n')]));
            let msg;
            try { msg = JSON.parse(body.toString('utf8')); } catch { res.writeHead(400, { 'content-type': 'application/json' }); res.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}'); return; }
            const answers = (Array.isArray(msg) ? msg : [msg]).map(reply).filter((a) => a !== null);
            const headers = { 'content-type': 'application/json', 'mcp-session-id': 'remote-session' };
            if (answers.length === 0) { res.writeHead(202, headers); res.end(); return; }
            res.writeHead(200, headers);
            res.end(JSON.stringify(Array.isArray(msg) ? answers : answers[0]));
          });
        }).listen(Number(port), '127.0.0.1', () => console.log('listening ' + port));
        """;

    private readonly string directory = Directory.CreateTempSubdirectory("signet-bridge-backends-").FullName;
    private Process? http;

    public RecordingBackends()
    {
        File.WriteAllText(Path.Combine(directory, "stdio-server.js"), StdioServer);
        File.WriteAllText(Path.Combine(directory, "http-server.js"), HttpServer);
    }

    /// <summary>Where the backend writes what it received.</summary>
    public string ReceivedFile => Path.Combine(directory, "received.log");

    /// <summary>Every line the backend received so far.</summary>
    public IReadOnlyList<byte[]> Received()
    {
        if (!File.Exists(ReceivedFile))
        {
            return [];
        }
        var bytes = File.ReadAllBytes(ReceivedFile);
        var lines = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                lines.Add(bytes[start..i]);
                start = i + 1;
            }
        }
        return lines;
    }

    /// <summary>A stdio backend; <paramref name="exactIds"/> echoes numeric ids as sent instead of as JavaScript reads them.</summary>
    public BridgeBackendOptions Stdio(bool exactIds = false) => new()
    {
        Name = "default",
        Command = NpmPeers.Node,
        Args = { Path.Combine(directory, "stdio-server.js"), ReceivedFile, exactIds ? "exact" : "js" },
    };

    /// <summary>Starts the Streamable HTTP backend and returns its options.</summary>
    public async Task<BridgeBackendOptions> StartHttpAsync()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var info = new ProcessStartInfo(NpmPeers.Node) { UseShellExecute = false, RedirectStandardOutput = true };
        info.ArgumentList.Add(Path.Combine(directory, "http-server.js"));
        info.ArgumentList.Add(ReceivedFile);
        info.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        http = Process.Start(info)!;
        var line = await http.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.StartsWith("listening", line);
        return new BridgeBackendOptions { Name = "default", Url = $"http://127.0.0.1:{port}/mcp" };
    }

    public void Dispose()
    {
        if (http is not null)
        {
            http.Kill(entireProcessTree: true);
            http.WaitForExit(60_000);
            http.Dispose();
        }
        Directory.Delete(directory, recursive: true);
    }
}
