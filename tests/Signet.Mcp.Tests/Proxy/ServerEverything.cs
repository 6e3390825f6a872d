using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Signet.Mcp.Tests.Proxy;

/// <summary>Locates the pinned npm peers (tests/interop/node_modules, installed by test.sh) and runs server-everything.</summary>
internal static class ServerEverything
{
    public static string NodeModules { get; } = Find();

    public static string Script(string package) => Path.Combine(NodeModules, "@modelcontextprotocol", package, "dist", "index.js");

    /// <summary>Starts server-everything in Streamable HTTP mode on a free port; returns when it listens.</summary>
    public static async Task<(Process Process, Uri Endpoint)> StartHttpAsync()
    {
        var port = FreePort();
        var info = new ProcessStartInfo("node") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(Script("server-everything"));
        info.ArgumentList.Add("streamableHttp");
        info.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var process = Process.Start(info)!;
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("listening on port", StringComparison.Ordinal) == true)
            {
                listening.TrySetResult();
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        await listening.Task.WaitAsync(PipeHarness.Timeout);
        return (process, new Uri($"http://127.0.0.1:{port}/mcp"));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "interop", "node_modules");
            if (File.Exists(Path.Combine(dir.FullName, "Signet.sln")))
            {
                if (Directory.Exists(Path.Combine(candidate, "@modelcontextprotocol", "server-everything")))
                {
                    return candidate;
                }
                throw new InvalidOperationException($"npm peers not installed in {candidate}: run 'bash test.sh' (it runs npm ci in tests/interop)");
            }
        }
        throw new InvalidOperationException("repository root (Signet.sln) not found above " + AppContext.BaseDirectory);
    }
}
