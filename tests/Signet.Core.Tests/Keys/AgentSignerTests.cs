using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using Signet.Core.Tests.Audit;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Core.Tests.Keys;

/// <summary>
/// The client side of the signer agent over real Unix sockets: the protocol against a small agent of the test's own
/// (the real one, <c>signet agent</c>, is tested as a process in the CLI tests), and the checks made before connecting.
/// </summary>
public sealed class AgentSignerTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string SocketPath => Path.Combine(_dir.Path, "agent.sock");

    [Fact]
    public async Task Sign_ThroughAgent_ReceiptVerifiesAndCarriesTheAgentsNameAndOwner()
    {
        using var key = SigningKey.Generate();
        await using var agent = TestAgent.Start(SocketPath, key);
        using var signer = AgentSigner.Connect(SocketPath);

        var receipt = new ReceiptSigner(signer, signer.Name, signer.Owner).SignRequest(new ReceiptAction { Tool = "echo", Target = "mcp://x" });

        Assert.Equal(key.PublicKey, signer.PublicKey);
        Assert.Equal(("agent", "ops"), (signer.Name, signer.Owner));
        Assert.True(ReceiptVerifier.Verify(receipt, new ReceiptVerificationOptions { TrustedKeys = [key.PublicKey] }).IsValid);
    }

    [Fact]
    public async Task Sign_ConcurrentCalls_EachGetsItsOwnAnswer()
    {
        using var key = SigningKey.Generate();
        await using var agent = TestAgent.Start(SocketPath, key);
        using var signer = AgentSigner.Connect(SocketPath);

        var messages = Enumerable.Range(0, 64).Select(i => BitConverter.GetBytes(i)).ToArray();
        var signatures = await Task.WhenAll(messages.Select(m => Task.Run(() => signer.Sign(m)))).WaitAsync(Timeout);

        Assert.All(messages.Zip(signatures), p => Assert.True(key.PublicKey.Verify(p.First, p.Second)));
    }

    [Fact]
    public async Task Sign_AgentClosedThePooledConnection_ReconnectsAndSigns()
    {
        using var key = SigningKey.Generate();
        await using var agent = TestAgent.Start(SocketPath, key, closeAfterEachAnswer: true);
        using var signer = AgentSigner.Connect(SocketPath);

        var signature = signer.Sign("after a reconnect"u8);

        Assert.True(key.PublicKey.Verify("after a reconnect"u8, signature));
    }

    [Fact]
    public async Task Sign_AgentAnswersAnError_SignetExceptionWithItsMessage()
    {
        using var key = SigningKey.Generate();
        await using var agent = TestAgent.Start(SocketPath, key, signError: "the agent is locked: unlock it with signet agent unlock");
        using var signer = AgentSigner.Connect(SocketPath);

        var error = Assert.Throws<SignetException>(() => signer.Sign("x"u8));

        Assert.Contains("signet agent unlock", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_AgentGone_SignetExceptionNamingTheSocket()
    {
        using var key = SigningKey.Generate();
        var agent = TestAgent.Start(SocketPath, key);
        using var signer = AgentSigner.Connect(SocketPath);
        await agent.DisposeAsync();

        var error = Assert.Throws<SignetException>(() => signer.Sign("x"u8));

        Assert.Contains(SocketPath, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_NoSocket_SaysHowToStartAnAgent()
    {
        var error = Assert.Throws<SignetException>(() => AgentSigner.Connect(SocketPath));

        Assert.Contains("the socket does not exist", error.Message, StringComparison.Ordinal);
        Assert.Contains("signet agent --socket", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_StaleSocket_SaysTheAgentExited()
    {
        // Bound but not listening, as the socket file of an agent that died is: connect(2) is refused. (.NET removes the
        // file when a bound socket is disposed, so it stays open for the test.)
        using var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        dead.Bind(new UnixDomainSocketEndPoint(SocketPath));

        var error = Assert.Throws<SignetException>(() => AgentSigner.Connect(SocketPath));

        Assert.Contains("left by an agent that exited", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_RegularFile_NotASocket()
    {
        File.WriteAllText(SocketPath, "");

        var error = Assert.Throws<SignetException>(() => AgentSigner.Connect(SocketPath));

        Assert.Contains("is not a socket", error.Message, StringComparison.Ordinal);
    }

    [RootFact("giving the socket to another user")]
    public async Task Connect_SocketOfAnotherUser_Refused()
    {
        using var key = SigningKey.Generate();
        await using var agent = TestAgent.Start(SocketPath, key);
        using (var chown = Process.Start("chown", ["65534", SocketPath]))
        {
            await chown.WaitForExitAsync().WaitAsync(Timeout);
            Assert.Equal(0, chown.ExitCode);
        }

        var error = Assert.Throws<SignetException>(() => AgentSigner.Connect(SocketPath));

        Assert.Contains("belongs to uid 65534", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A minimal agent speaking the protocol with an in-memory key, without the real agent's checks. It serves on threads
    /// of its own with blocking calls, so clients that block pool threads (as <see cref="AgentSigner.Sign"/> does) cannot
    /// starve it: the real agent is another process.
    /// </summary>
    private sealed class TestAgent : IAsyncDisposable
    {
        private readonly Socket _listener;
        private readonly Thread _accept;
        private readonly List<Socket> _clients = [];

        private TestAgent(Socket listener, Action<Socket> serve)
        {
            _listener = listener;
            _accept = new Thread(() =>
            {
                while (true)
                {
                    Socket client;
                    try
                    {
                        client = _listener.Accept();
                    }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException)
                    {
                        return;
                    }
                    lock (_clients)
                    {
                        _clients.Add(client);
                    }
                    new Thread(() => serve(client)) { IsBackground = true }.Start();
                }
            }) { IsBackground = true };
            _accept.Start();
        }

        public static TestAgent Start(string path, SigningKey key, bool closeAfterEachAnswer = false, string? signError = null)
        {
            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(128);
            return new TestAgent(listener, socket =>
            {
                using var _ = socket;
                try
                {
                    while (AgentProtocol.Read(socket) is { } body)
                    {
                        using var request = JsonDocument.Parse(body);
                        var answer = request.RootElement.GetProperty("op").GetString() switch
                        {
                            "info" => AgentProtocol.Ok(w =>
                            {
                                w.WriteString("pubkey", key.PublicKey.Text);
                                w.WriteString("name", "agent");
                                w.WriteString("owner", "ops");
                                w.WriteString("key", "agent");
                                w.WriteString("description", "test agent");
                            }),
                            "sign" when signError is not null => AgentProtocol.Error(AgentProtocol.Locked, signError),
                            "sign" => AgentProtocol.Ok(w => w.WriteBase64String("sig", key.Sign(request.RootElement.GetProperty("data").GetBytesFromBase64()))),
                            _ => AgentProtocol.Error(AgentProtocol.BadRequest, "unknown op"),
                        };
                        AgentProtocol.Write(socket, answer);
                        if (closeAfterEachAnswer)
                        {
                            return;
                        }
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidDataException)
                {
                }
            });
        }

        public ValueTask DisposeAsync()
        {
            _listener.Dispose();
            _accept.Join(Timeout);
            lock (_clients)
            {
                foreach (var client in _clients)
                {
                    client.Dispose();
                }
            }
            return ValueTask.CompletedTask;
        }
    }
}
