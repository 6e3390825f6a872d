using ModelContextProtocol.Client;
using Signet.Mcp.Tests.Interop;

namespace Signet.Mcp.Tests.Demo;

/// <summary>One <c>signet demo-server</c> child process shared by a test class, connected through the SDK's stdio client.</summary>
public sealed class DemoServerFixture : IAsyncLifetime
{
    private readonly Lock gate = new();
    private readonly List<string> stderr = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> waiters = [];

    /// <summary>The connected client.</summary>
    public McpClient Client { get; private set; } = null!;

    /// <summary>Starts the server and connects (default client options: the SDK picks the protocol).</summary>
    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(ProcessRunner.DefaultTimeout);
        var transport = new StdioClientTransport(SignetExecutable.DemoServer(OnStderrLine));
        Client = await McpClient.CreateAsync(transport, cancellationToken: timeout.Token);
    }

    /// <summary>The first stderr line (already written or still to come) that matches.</summary>
    public Task<string> StderrLineAsync(Func<string, bool> match)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            if (stderr.FirstOrDefault(match) is { } line)
            {
                return Task.FromResult(line);
            }
            waiters.Add((match, found));
        }
        return found.Task;
    }

    /// <summary>Disconnects, which ends the child.</summary>
    public async Task DisposeAsync()
    {
        if (Client is not null)
        {
            await Client.DisposeAsync();
        }
    }

    private void OnStderrLine(string line)
    {
        lock (gate)
        {
            stderr.Add(line);
            foreach (var waiter in waiters.Where(w => w.Match(line)).ToList())
            {
                waiters.Remove(waiter);
                waiter.Found.TrySetResult(line);
            }
        }
    }
}
