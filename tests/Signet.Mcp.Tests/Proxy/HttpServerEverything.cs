using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Signet.Mcp.Tests.Interop;

namespace Signet.Mcp.Tests.Proxy;

/// <summary>Runs the pinned server-everything in Streamable HTTP mode on a free port.</summary>
internal static class HttpServerEverything
{
    /// <summary>Starts it; returns once it listens.</summary>
    public static async Task<(Process Process, Uri Endpoint)> StartAsync()
    {
        var port = FreePort();
        var info = new ProcessStartInfo(NpmPeers.Node) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(NpmPeers.ServerEverything);
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
        await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return (process, new Uri($"http://127.0.0.1:{port}/mcp"));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
