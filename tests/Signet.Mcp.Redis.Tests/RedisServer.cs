using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Signet.Mcp.Tests;

namespace Signet.Mcp.Redis.Tests;

/// <summary>
/// A real <c>redis-server</c> process on a free loopback port, without persistence, in a folder of its own; ready when
/// it has said so on stdout, killed when disposed. <see cref="RestartAsync"/> starts a new one on the same port.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private static readonly string[] Candidates = ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"];
    private readonly string _folder;
    private Process? _process;

    private RedisServer(int port, string folder)
    {
        Port = port;
        _folder = folder;
    }

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string of this server.</summary>
    public string Configuration => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>The redis-server executable; a missing one fails the test with what to install.</summary>
    public static string Executable => Candidates.FirstOrDefault(File.Exists)
        ?? (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException(
            "redis-server is not installed (not on PATH nor in /usr/bin): install the Debian/Ubuntu package redis-server " +
            "(apt-get install redis-server); the Redis nonce cache tests run against it");

    public static async Task<RedisServer> StartAsync()
    {
        var folder = Directory.CreateTempSubdirectory("signet-redis-").FullName;
        var server = new RedisServer(FreePort(), folder);
        try
        {
            await server.RunAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>A port nothing listens on (for a Redis that is down from the start).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Kills the server (SIGKILL: a crash, not a shutdown) and waits until it is gone.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            if (!process.HasExited)
            {
                process.Kill();
            }
            await process.WaitForExitAsync().WaitAsync(TestTimeout.Value);
            process.Dispose();
        }
    }

    /// <summary>Starts a new server on the same port, with no data: what a restart of a Redis without persistence is.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await RunAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task RunAsync()
    {
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _folder })
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start redis-server");
        _process = process;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new List<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                lock (output)
                {
                    ready.TrySetException(new InvalidOperationException($"redis-server on port {Port} ended before it was ready:\n{string.Join("\n", output)}"));
                }
                return;
            }
            lock (output)
            {
                output.Add(e.Data);
            }
            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.Add(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await ready.Task.WaitAsync(TestTimeout.Value);
    }
}
