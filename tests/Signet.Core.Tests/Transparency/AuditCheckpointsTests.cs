using Signet.Core.Tests.Audit;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Core.Tests.Transparency;

/// <summary>Signing a checkpoint: what is fsynced first, and in what order.</summary>
public sealed class AuditCheckpointsTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly SigningKey _key = SigningKey.Generate();

    public void Dispose()
    {
        _dir.Dispose();
        _key.Dispose();
    }

    [Fact]
    public void Create_FsyncsTheDayFilesAfterThePreviousCheckpoint_BeforeSigning()
    {
        TreeTestLog.Append(_dir.Path, "2026-12-01.jsonl", 0, 3);
        TreeTestLog.Append(_dir.Path, "2026-12-02.jsonl", 3, 2);
        var events = new List<string>();
        var signer = new NoteSigner("example.test/log", new RecordingSigner(_key, events));
        var store = new AuditCheckpoints(_dir.Path) { Synced = file => events.Add("sync " + Path.GetFileName(file)) };
        using var tree = AuditTree.Open(_dir.Path);

        store.Create(tree, signer);
        // The first checkpoint covers every file.
        Assert.Equal(["sync 2026-12-01.jsonl", "sync 2026-12-02.jsonl", "sign"], events);

        events.Clear();
        TreeTestLog.Append(_dir.Path, "2026-12-02.jsonl", 5, 1);
        TreeTestLog.Append(_dir.Path, "2026-12-03.jsonl", 6, 2);
        store.Create(tree, signer);
        // The next one: the file holding record 5 (the first after size 5) and every later file; not the first day.
        Assert.Equal(["sync 2026-12-02.jsonl", "sync 2026-12-03.jsonl", "sign"], events);

        events.Clear();
        store.Create(tree, signer);
        // Nothing new: the latest checkpoint is returned, nothing fsynced or signed.
        Assert.Empty(events);
        Assert.Equal(8, store.Latest()!.Checkpoint.Size);
    }

    /// <summary>A key that notes each signature in the shared event list.</summary>
    private sealed class RecordingSigner(SigningKey key, List<string> events) : ISigner
    {
        public PublicKey PublicKey => key.PublicKey;

        public string Description => "recording test key";

        public byte[] Sign(ReadOnlySpan<byte> data)
        {
            events.Add("sign");
            return key.Sign(data);
        }

        public void Dispose()
        {
        }
    }
}
