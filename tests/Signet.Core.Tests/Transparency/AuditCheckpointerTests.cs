using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Signet.Audit;
using Signet.Core.Tests.Audit;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

/// <summary>The checkpointer the proxy and bridge run beside the call path: on its timer, on close, and with a witness down.</summary>
public sealed class AuditCheckpointerTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly SigningKey _key = SigningKey.Generate();

    public void Dispose()
    {
        _dir.Dispose();
        _key.Dispose();
    }

    [Fact]
    public async Task Timer_SignsWhenTheLogGrew_AndCloseSignsTheRest()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var signer = new NoteSigner("example.test/log", _key);
        await AppendAsync(0, 3);
        var checkpointer = AuditCheckpointer.Start(_dir.Path, signer, new AuditCheckpointerOptions { Interval = TimeSpan.FromMinutes(1), TimeProvider = time });
        var signed = new TaskCompletionSource<SignedCheckpoint>(TaskCreationOptions.RunContinuationsAsynchronously);
        checkpointer.CheckpointSigned += (_, checkpoint) => signed.TrySetResult(checkpoint);
        try
        {
            Assert.Null(new AuditCheckpoints(_dir.Path).Latest());

            time.Advance(TimeSpan.FromMinutes(1));
            // The tick's checkpoint is stored before the event is raised; a missing tick fails within the bound.
            var first = await signed.Task.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(3, first.Checkpoint.Size);
            Assert.Equal(3, new AuditCheckpoints(_dir.Path).Latest()!.Checkpoint.Size);

            await AppendAsync(3, 2);
        }
        finally
        {
            await checkpointer.DisposeAsync();
        }

        var latest = new AuditCheckpoints(_dir.Path).Latest()!;
        Assert.Equal(5, latest.Checkpoint.Size);
        latest.Verify(signer.VerifierKey);
        Assert.Equal([3, 5], new AuditCheckpoints(_dir.Path).History().Select(c => c.Checkpoint.Size));
    }

    [Fact]
    public async Task WitnessDown_IsReportedAndTheCheckpointIsStillSigned()
    {
        await AppendAsync(0, 2);
        using var witnessKey = SigningKey.Generate();
        var down = new WitnessEndpoint(new Uri($"http://127.0.0.1:{ClosedPort()}/"), NoteVerifierKey.ForCosignatures("down.test/witness", witnessKey.PublicKey));
        await using var checkpointer = AuditCheckpointer.Start(_dir.Path, new NoteSigner("example.test/log", _key),
            new AuditCheckpointerOptions { Interval = TimeSpan.FromHours(1), Witnesses = [down] });

        var checkpoint = await checkpointer.CheckpointNowAsync();

        Assert.Equal(2, checkpoint!.Checkpoint.Size);
        var outcome = Assert.Single(checkpointer.LastPublished!.Outcomes);
        Assert.Equal(WitnessFailureKind.Unreachable, outcome.Error!.Kind);
    }

    [Fact]
    public async Task StartOnAnOpenLog_SharesItsTree_AndTheLastCheckpointAfterTheLogClosedCoversEveryRecord()
    {
        var signer = new NoteSigner("example.test/log", _key);
        var log = AuditLog.Open(_dir.Path);
        var checkpointer = AuditCheckpointer.Start(log, signer, new AuditCheckpointerOptions { Interval = TimeSpan.FromHours(1) });
        for (var i = 0; i < 3; i++)
        {
            await log.AppendAsync(TestReceipts.V1(i));
        }
        var first = await checkpointer.CheckpointNowAsync();
        Assert.Equal(3, first!.Checkpoint.Size);
        // One tree: the checkpoint's catch-up is the log's (its size moved without the log's timer).
        Assert.Equal(3, log.Tree!.Size);

        await log.AppendAsync(TestReceipts.V1(3));
        await log.DisposeAsync();
        // The log closed and let go of the tree; the checkpointer still holds it for its last checkpoint.
        await checkpointer.DisposeAsync();

        var latest = new AuditCheckpoints(_dir.Path).Latest()!;
        Assert.Equal(4, latest.Checkpoint.Size);
        latest.Verify(signer.VerifierKey);
        using var reopened = AuditTree.Open(_dir.Path);
        Assert.Equal(latest.Checkpoint.RootHash, reopened.RootAt(4));
        Assert.Throws<ObjectDisposedException>(() => log.Tree.RootAt(4));
    }

    [Fact]
    public async Task CheckpointSignedHandlerThrows_CheckpointStillSignedAndRaisedOncePerSize()
    {
        await AppendAsync(0, 2);
        await using var checkpointer = AuditCheckpointer.Start(_dir.Path, new NoteSigner("example.test/log", _key),
            new AuditCheckpointerOptions { Interval = TimeSpan.FromHours(1) });
        var raised = new List<long>();
        checkpointer.CheckpointSigned += (_, checkpoint) =>
        {
            raised.Add(checkpoint.Checkpoint.Size);
            throw new InvalidOperationException("handler failed");
        };

        var first = await checkpointer.CheckpointNowAsync();
        var again = await checkpointer.CheckpointNowAsync();

        Assert.Equal(2, first!.Checkpoint.Size);
        Assert.Equal(2, again!.Checkpoint.Size);
        Assert.Equal([2L], raised);
    }

    [Fact]
    public async Task LogRewrittenBelowTheLatestCheckpoint_NothingIsSigned()
    {
        var signer = new NoteSigner("example.test/log", _key);
        await AppendAsync(0, 4);
        await using (var first = AuditCheckpointer.Start(_dir.Path, signer, new AuditCheckpointerOptions { Interval = TimeSpan.FromHours(1) }))
        {
            await first.CheckpointNowAsync();
        }
        // The second record changed in place (same length), and the tree's derived files dropped.
        var file = Directory.GetFiles(_dir.Path, "*.jsonl").Single();
        var lines = File.ReadAllLines(file);
        lines[1] = lines[1].Replace("query 1 ", "query 9 ", StringComparison.Ordinal);
        File.WriteAllLines(file, lines);
        Directory.Delete(Path.Combine(_dir.Path, "tile"), recursive: true);

        await using var second = AuditCheckpointer.Start(_dir.Path, signer, new AuditCheckpointerOptions { Interval = TimeSpan.FromHours(1) });
        Assert.Null(await second.CheckpointNowAsync());
        Assert.Equal(4, new AuditCheckpoints(_dir.Path).Latest()!.Checkpoint.Size);
    }

    private async Task AppendAsync(int start, int count)
    {
        await using var log = AuditLog.Open(_dir.Path);
        for (var i = start; i < start + count; i++)
        {
            await log.AppendAsync(TestReceipts.V1(i));
        }
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
