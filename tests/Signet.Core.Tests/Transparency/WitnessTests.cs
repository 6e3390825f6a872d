using System.Text;
using Microsoft.Extensions.Time.Testing;
using Signet.Audit;
using Signet.Keys;
using Signet.Core.Tests.Audit;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

/// <summary>The witness's add-checkpoint rules (C2SP tlog-witness), over real audit logs, trees and state files.</summary>
public sealed class WitnessTests : IDisposable
{
    private readonly TempDirectory _log = new();
    private readonly TempDirectory _state = new();
    private readonly SigningKey _logKey = SigningKey.Generate();
    private readonly SigningKey _witnessKey = SigningKey.Generate();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly NoteSigner _signer;

    public WitnessTests()
    {
        _signer = new NoteSigner("example.test/log", _logKey);
    }

    public void Dispose()
    {
        _log.Dispose();
        _state.Dispose();
        _logKey.Dispose();
        _witnessKey.Dispose();
    }

    [Fact]
    public async Task AddCheckpoint_FirstThenConsistentExtension_CosignsBothAndKeepsTheLatest()
    {
        using var witness = OpenWitness();
        await AppendAsync(5);
        using var tree = AuditTree.Open(_log.Path);
        var first = Sign(tree);

        var answer = witness.AddCheckpoint(Body(0, [], first));

        Assert.Equal(200, answer.StatusCode);
        var cosignature = Assert.Single(AddCheckpointRequest.ParseResponse(answer.Body));
        Assert.True(Cosignature.Verify(witness.VerifierKey, first.Note.Text, cosignature, out var when));
        Assert.Equal(_time.GetUtcNow().ToUnixTimeSeconds(), when.ToUnixTimeSeconds());

        await AppendAsync(7);
        tree.CatchUp();
        var second = Sign(tree);
        var next = witness.AddCheckpoint(Body(5, tree.ConsistencyProof(5, 12), second));

        Assert.Equal(200, next.StatusCode);
        var stored = SignedCheckpoint.Parse(witness.GetCheckpoint(Witness.OriginHash("example.test/log"))!);
        Assert.Equal(12, stored.Checkpoint.Size);
        Assert.Contains(stored.Note.Signatures, s => s.KeyName == witness.Name);
    }

    [Fact]
    public async Task AddCheckpoint_OldSizeNotTheOneCosigned_Answers409WithTheSize()
    {
        using var witness = OpenWitness();
        await AppendAsync(4);
        using var tree = AuditTree.Open(_log.Path);
        Assert.Equal(200, witness.AddCheckpoint(Body(0, [], Sign(tree))).StatusCode);
        await AppendAsync(2);
        tree.CatchUp();

        var answer = witness.AddCheckpoint(Body(0, [], Sign(tree)));

        Assert.Equal(409, answer.StatusCode);
        Assert.Equal(AddCheckpointRequest.SizeContentType, answer.ContentType);
        Assert.Equal("4\n", answer.Body);
        // A 409 is protocol, not evidence: nothing is kept as refused.
        Assert.False(Directory.Exists(Path.Combine(_state.Path, "logs", Witness.OriginHash("example.test/log"), "refused")));
    }

    [Fact]
    public async Task AddCheckpoint_RewrittenLog_IsRefusedAs422AndKeptAsEvidence()
    {
        using var witness = OpenWitness();
        await AppendAsync(6);
        using (var tree = AuditTree.Open(_log.Path))
        {
            Assert.Equal(200, witness.AddCheckpoint(Body(0, [], Sign(tree))).StatusCode);
        }

        // Another history of the same origin: a different log of 9 records, signed with the same key.
        using var other = new TempDirectory();
        await using (var log = AuditLog.Open(other.Path))
        {
            for (var i = 100; i < 109; i++)
            {
                await log.AppendAsync(TestReceipts.V1(i));
            }
        }
        using var forged = AuditTree.Open(other.Path);
        var answer = witness.AddCheckpoint(Body(6, forged.ConsistencyProof(6, 9), Sign(forged)));

        Assert.Equal(422, answer.StatusCode);
        Assert.Contains("not a consistent extension", answer.Body, StringComparison.Ordinal);
        var evidence = Directory.GetFiles(Path.Combine(_state.Path, "logs", Witness.OriginHash("example.test/log"), "refused"));
        Assert.Contains(evidence, f => f.Contains("-fork-9.", StringComparison.Ordinal));
        // The state did not move.
        Assert.Equal(6, SignedCheckpoint.Parse(witness.GetCheckpoint(Witness.OriginHash("example.test/log"))!).Checkpoint.Size);
    }

    [Fact]
    public async Task AddCheckpoint_SameSizeOtherRoot_Is422()
    {
        using var witness = OpenWitness();
        await AppendAsync(3);
        using var tree = AuditTree.Open(_log.Path);
        Assert.Equal(200, witness.AddCheckpoint(Body(0, [], Sign(tree))).StatusCode);
        var other = SignedCheckpoint.Create(new Checkpoint("example.test/log", 3, new byte[32]), _signer);

        var answer = witness.AddCheckpoint(Body(3, [], other));

        Assert.Equal(422, answer.StatusCode);
        Assert.Contains("fork", answer.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddCheckpoint_RefusesWhatItMustRefuse()
    {
        using var witness = OpenWitness();
        await AppendAsync(3);
        using var tree = AuditTree.Open(_log.Path);
        var good = Sign(tree);

        // 404: an origin it was not told of.
        using var strangerKey = SigningKey.Generate();
        var stranger = SignedCheckpoint.Create(new Checkpoint("stranger.test/log", 3, tree.RootAt(3)), new NoteSigner("stranger.test/log", strangerKey));
        Assert.Equal(404, witness.AddCheckpoint(Body(0, [], stranger)).StatusCode);

        // 403: the right origin, signed by another key of the same name.
        var impostor = SignedCheckpoint.Create(good.Checkpoint, new NoteSigner("example.test/log", strangerKey));
        Assert.Equal(403, witness.AddCheckpoint(Body(0, [], impostor)).StatusCode);

        // 400: old size above the new size; a body that is not a request.
        // (Written by hand: our own formatter refuses to write such a request.)
        Assert.Equal(400, witness.AddCheckpoint(Encoding.UTF8.GetBytes("old 4\n\n" + good)).StatusCode);
        Assert.Equal(400, witness.AddCheckpoint("old x\n\nnot a checkpoint\n"u8).StatusCode);

        // 422: a proof with old size 0; an empty tree with another root.
        Assert.Equal(422, witness.AddCheckpoint(Body(0, [new byte[32]], good)).StatusCode);
        var empty = SignedCheckpoint.Create(new Checkpoint("example.test/log", 0, new byte[32]), _signer);
        Assert.Equal(422, witness.AddCheckpoint(Body(0, [], empty)).StatusCode);

        // None of that moved the state: a first checkpoint is still taken from 0.
        Assert.Equal(200, witness.AddCheckpoint(Body(0, [], good)).StatusCode);
    }

    [Fact]
    public async Task AddCheckpoint_StateSurvivesARestart()
    {
        await AppendAsync(5);
        using var tree = AuditTree.Open(_log.Path);
        using (var witness = OpenWitness())
        {
            Assert.Equal(200, witness.AddCheckpoint(Body(0, [], Sign(tree))).StatusCode);
        }
        using var again = OpenWitness();

        var answer = again.AddCheckpoint(Body(0, [], Sign(tree)));

        Assert.Equal(409, answer.StatusCode);
        Assert.Equal("5\n", answer.Body);
    }

    [Fact]
    public void Open_StateDirectoryInUse_IsRefused()
    {
        using var first = OpenWitness();

        var e = Assert.Throws<SignetException>(() => OpenWitness());

        Assert.Contains("witness.lock", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddCheckpoint_ConcurrentRequestsFromOneSize_OnlyOneIsCosigned()
    {
        using var witness = OpenWitness();
        await AppendAsync(8);
        using var tree = AuditTree.Open(_log.Path);
        var body = Body(0, [], Sign(tree));

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => witness.AddCheckpoint(body))));

        Assert.Single(answers, a => a.StatusCode == 200);
        Assert.All(answers.Where(a => a.StatusCode != 200), a => Assert.Equal((409, "8\n"), (a.StatusCode, a.Body)));
    }

    private Witness OpenWitness() =>
        Witness.Open(_state.Path, "witness.test/w1", _witnessKey, [_signer.VerifierKey], _time);

    private SignedCheckpoint Sign(AuditTree tree) =>
        SignedCheckpoint.Create(new Checkpoint("example.test/log", tree.Size, tree.RootAt(tree.Size)), _signer);

    private static byte[] Body(long oldSize, IReadOnlyList<byte[]> proof, SignedCheckpoint checkpoint) =>
        Encoding.UTF8.GetBytes(AddCheckpointRequest.Format(oldSize, proof, checkpoint));

    private async Task AppendAsync(int count)
    {
        await using var log = AuditLog.Open(_log.Path);
        var start = (int)Directory.GetFiles(_log.Path, "*.jsonl").Sum(f => File.ReadLines(f).LongCount());
        for (var i = 0; i < count; i++)
        {
            await log.AppendAsync(TestReceipts.V1(start + i));
        }
    }
}
