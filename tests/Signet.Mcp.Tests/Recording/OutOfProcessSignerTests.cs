using System.Text.Json.Nodes;
using Signet.Keys;
using Signet.Mcp.Recording;
using Signet.Receipts;

namespace Signet.Mcp.Tests.Recording;

/// <summary>
/// A signer whose signatures wait on another process (an agent, a token) is called off the caller's loop, so that the
/// proxy's reader is not held for each round trip; an in-memory key is signed inline, as before.
/// </summary>
public sealed class OutOfProcessSignerTests
{
    [Fact]
    public async Task StartAsync_SignerOutOfProcess_ReturnsToTheCallerBeforeTheSignatureIsMade()
    {
        using var key = SigningKey.Generate();
        using var gate = new ManualResetEventSlim();
        var signer = new GatedSigner(key, gate, outOfProcess: true);
        var session = new ToolCallRecorder(new SignetOptions { Signer = new ReceiptSigner(signer, "agent"), Target = "mcp://test" }).CreateSession();

        // If the signature were made on this thread, StartAsync would not return until the gate opens.
        var starting = session.StartAsync(true, 1, true, new JsonObject { ["name"] = "echo" });

        Assert.False(starting.IsCompleted);
        gate.Set();
        var start = await starting.AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ToolCallVerdict.Forward, start.Verdict);
        Assert.True(ReceiptVerifier.Verify(start.Recorded!.Receipt, new ReceiptVerificationOptions { TrustedKeys = [key.PublicKey] }).IsValid);
        Assert.NotEqual(Environment.CurrentManagedThreadId, signer.SignedOnThread);
    }

    [Fact]
    public async Task StartAsync_InMemoryKey_SignsOnTheCallersThread()
    {
        using var key = SigningKey.Generate();
        using var gate = new ManualResetEventSlim(initialState: true);
        var signer = new GatedSigner(key, gate, outOfProcess: false);
        var session = new ToolCallRecorder(new SignetOptions { Signer = new ReceiptSigner(signer, "agent"), Target = "mcp://test" }).CreateSession();
        var thread = Environment.CurrentManagedThreadId;

        var starting = session.StartAsync(true, 1, true, new JsonObject { ["name"] = "echo" });

        Assert.True(starting.IsCompleted); // no audit log: nothing to wait for, and no thread hop
        Assert.Equal(thread, signer.SignedOnThread);
        Assert.Equal(ToolCallVerdict.Forward, (await starting).Verdict);
    }

    /// <summary>Signs with a real key once the gate is open; says whether it signs out of process.</summary>
    private sealed class GatedSigner(SigningKey key, ManualResetEventSlim gate, bool outOfProcess) : ISigner
    {
        public int SignedOnThread { get; private set; }

        public PublicKey PublicKey => key.PublicKey;

        public string Description => "gated test key";

        public bool SignsOutOfProcess => outOfProcess;

        public byte[] Sign(ReadOnlySpan<byte> data)
        {
            SignedOnThread = Environment.CurrentManagedThreadId;
            Assert.True(gate.Wait(TimeSpan.FromSeconds(30)), "the gate was never opened");
            return key.Sign(data);
        }

        public void Dispose()
        {
        }
    }
}
