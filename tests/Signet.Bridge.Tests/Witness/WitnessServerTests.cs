using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Signet.Audit;
using Signet.Bridge.Witness;
using Signet.Keys;
using Signet.Transparency;

namespace Signet.Bridge.Tests.Witness;

/// <summary>
/// <c>signet witness serve</c>'s HTTP side over real Kestrel and real HttpClient, and the log side that publishes to
/// it (<see cref="WitnessPublisher"/>): witnesses that cosign, one that is down, one that answers garbage, one that
/// learned a size from another client, and one that sees a fork.
/// </summary>
public sealed class WitnessServerTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "signet-witness-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly SigningKey _logKey = SigningKey.Generate();
    private readonly List<IAsyncDisposable> _servers = [];
    private readonly List<IDisposable> _witnesses = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private NoteSigner _signer = null!;

    private string AuditDirectory => Path.Combine(_root, "audit");

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(AuditDirectory);
        _signer = new NoteSigner("example.test/log", _logKey);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
        foreach (var witness in _witnesses)
        {
            witness.Dispose();
        }
        _http.Dispose();
        _logKey.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task AddCheckpoint_OverHttp_CosignsAndServesTheLatestCheckpoint()
    {
        var (url, witness) = await StartWitnessAsync("w1");
        await AppendAsync(5);
        using var tree = AuditTree.Open(AuditDirectory);
        var checkpoint = new AuditCheckpoints(AuditDirectory).Create(tree, _signer);

        using var response = await _http.PostAsync(new Uri(url, "add-checkpoint"), Body(0, [], checkpoint));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cosignature = Assert.Single(AddCheckpointRequest.ParseResponse(text));
        Assert.True(Cosignature.Verify(witness.VerifierKey, checkpoint.Note.Text, cosignature, out _));
        var served = await _http.GetStringAsync(new Uri(url, Transparency.Witness.OriginHash("example.test/log") + "/checkpoint"));
        Assert.Equal(5, SignedCheckpoint.Parse(served).Checkpoint.Size);
        using var unknown = await _http.GetAsync(new Uri(url, new string('0', 64) + "/checkpoint"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task AddCheckpoint_ConflictAnswer_HasTheSpecContentType()
    {
        var (url, _) = await StartWitnessAsync("w1");
        await AppendAsync(3);
        using var tree = AuditTree.Open(AuditDirectory);
        var checkpoint = new AuditCheckpoints(AuditDirectory).Create(tree, _signer);
        (await _http.PostAsync(new Uri(url, "add-checkpoint"), Body(0, [], checkpoint))).Dispose();

        using var response = await _http.PostAsync(new Uri(url, "add-checkpoint"), Body(0, [], checkpoint));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("text/x.tlog.size", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("3\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Requests_WithAToken_AreAuthenticated_AndOversizedBodiesRefused()
    {
        var (url, _) = await StartWitnessAsync("w1", token: "a-witness-token-of-enough-length");
        await AppendAsync(2);
        using var tree = AuditTree.Open(AuditDirectory);
        var checkpoint = new AuditCheckpoints(AuditDirectory).Create(tree, _signer);

        using var anonymous = await _http.PostAsync(new Uri(url, "add-checkpoint"), Body(0, [], checkpoint));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var wrongHost = new HttpRequestMessage(HttpMethod.Post, new Uri(url, "add-checkpoint")) { Content = Body(0, [], checkpoint) };
        wrongHost.Headers.Host = "attacker.example";
        wrongHost.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "a-witness-token-of-enough-length");
        using (var refused = await _http.SendAsync(wrongHost))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        using var huge = new HttpRequestMessage(HttpMethod.Post, new Uri(url, "add-checkpoint")) { Content = new ByteArrayContent(new byte[Transparency.Witness.MaxRequestBytes + 1]) };
        huge.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "a-witness-token-of-enough-length");
        using (var tooLarge = await _http.SendAsync(huge))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        }

        using var client = new HttpClient();
        var cosignature = await new WitnessClient(client, "a-witness-token-of-enough-length")
            .AddCheckpointAsync(WitnessAt(url), 0, [], checkpoint);
        Assert.Equal("w1.test/witness", cosignature.KeyName);
    }

    [Fact]
    public void Create_BeyondLoopbackWithoutToken_IsRefused()
    {
        using var key = SigningKey.Generate();
        using var witness = Transparency.Witness.Open(Path.Combine(_root, "state-open"), "w.test/witness", key, [_signer.VerifierKey]);
        var options = new WitnessServerOptions();
        options.Listen.Add("0.0.0.0:0");

        var e = Assert.Throws<SignetException>(() => WitnessServer.Create(witness, options, NullLoggerFactory.Instance));

        Assert.Contains("bearer token", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_TwoWitnessesOneDownOneGarbage_CosignaturesFromTheLiveOneAreStoredAndTheOthersReported()
    {
        var (url1, _) = await StartWitnessAsync("w1");
        var (url2, _) = await StartWitnessAsync("w2");
        var garbage = await StartGarbageAsync();
        using var downKey = SigningKey.Generate();
        var down = new WitnessEndpoint(new Uri($"http://127.0.0.1:{FreePort()}/"), NoteVerifierKey.ForCosignatures("down.test/witness", downKey.PublicKey));
        var liar = new WitnessEndpoint(garbage, NoteVerifierKey.ForCosignatures("liar.test/witness", downKey.PublicKey));
        await AppendAsync(4);
        using var tree = AuditTree.Open(AuditDirectory);
        var store = new AuditCheckpoints(AuditDirectory);
        var checkpoint = store.Create(tree, _signer);
        var publisher = new WitnessPublisher([WitnessAt(url1), down, liar, WitnessAt(url2)], new WitnessClient(_http));

        var result = await publisher.PublishAsync(checkpoint, tree, store);

        Assert.Equal([null, WitnessFailureKind.Unreachable, WitnessFailureKind.BadResponse, null], result.Outcomes.Select(o => o.Error?.Kind));
        var stored = store.Latest()!;
        Assert.Equal(3, stored.Note.Signatures.Count);
        var policy = WitnessPolicy.Threshold(2, [WitnessAt(url1).Key, WitnessAt(url2).Key]);
        Assert.Equal(2, stored.Verify(_signer.VerifierKey, policy).Cosignatures.Count);
    }

    [Fact]
    public async Task Publish_WitnessAheadOfThePublisher_LearnsTheSizeFrom409AndSendsTheRightProof()
    {
        var (url, _) = await StartWitnessAsync("w1");
        await AppendAsync(3);
        using var tree = AuditTree.Open(AuditDirectory);
        var store = new AuditCheckpoints(AuditDirectory);
        // Another process (another publisher) already brought the witness to size 3.
        await new WitnessPublisher([WitnessAt(url)], new WitnessClient(_http)).PublishAsync(store.Create(tree, _signer), tree, store);
        await AppendAsync(6);
        tree.CatchUp();
        var fresh = new WitnessPublisher([WitnessAt(url)], new WitnessClient(_http));

        var result = await fresh.PublishAsync(store.Create(tree, _signer), tree, store);

        Assert.Null(Assert.Single(result.Outcomes).Error);
        Assert.Equal(9, store.Latest()!.Checkpoint.Size);
    }

    [Fact]
    public async Task Publish_ForkedLog_IsRefusedByTheWitnessAndReportedAsSuch()
    {
        var (url, _) = await StartWitnessAsync("w1");
        await AppendAsync(4);
        var store = new AuditCheckpoints(AuditDirectory);
        using (var tree = AuditTree.Open(AuditDirectory))
        {
            await new WitnessPublisher([WitnessAt(url)], new WitnessClient(_http)).PublishAsync(store.Create(tree, _signer), tree, store);
        }
        // Another history under the same origin and key: a second log of 6 records.
        var other = Path.Combine(_root, "other");
        await AppendAsync(6, other, start: 100);
        using var forged = AuditTree.Open(other);
        var otherStore = new AuditCheckpoints(other);

        var result = await new WitnessPublisher([WitnessAt(url)], new WitnessClient(_http)).PublishAsync(otherStore.Create(forged, _signer), forged, otherStore);

        var error = Assert.Single(result.Outcomes).Error;
        Assert.NotNull(error);
        Assert.Equal((WitnessFailureKind.Refused, 422), (error.Kind, error.StatusCode));
    }

    private WitnessEndpoint WitnessAt(Uri url) => _endpoints[url];

    private readonly Dictionary<Uri, WitnessEndpoint> _endpoints = [];

    private async Task<(Uri Url, Transparency.Witness Witness)> StartWitnessAsync(string name, string? token = null)
    {
        var key = SigningKey.Generate();
        var witness = Transparency.Witness.Open(Path.Combine(_root, "state-" + name), $"{name}.test/witness", key, [_signer.VerifierKey]);
        _witnesses.Add(witness);
        _witnesses.Add(key);
        var options = new WitnessServerOptions { Token = token };
        options.Listen.Add("127.0.0.1:0");
        var server = WitnessServer.Create(witness, options, NullLoggerFactory.Instance);
        _servers.Add(server);
        await server.StartAsync();
        var url = new Uri(server.Addresses[0], "/");
        _endpoints[url] = new WitnessEndpoint(url, witness.VerifierKey);
        return (url, witness);
    }

    /// <summary>A server that answers 200 with something that is not a cosignature.</summary>
    private async Task<Uri> StartGarbageAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapPost("/add-checkpoint", (RequestDelegate)(context => context.Response.WriteAsync("this is not a signature line\n")));
        await app.StartAsync();
        _servers.Add(app);
        return new Uri(app.Urls.First() + "/");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static ByteArrayContent Body(long oldSize, IReadOnlyList<byte[]> proof, SignedCheckpoint checkpoint) =>
        new(Encoding.UTF8.GetBytes(AddCheckpointRequest.Format(oldSize, proof, checkpoint)));

    private Task AppendAsync(int count) => AppendAsync(count, AuditDirectory, start: (int)CountRecords(AuditDirectory));

    private static async Task AppendAsync(int count, string directory, int start)
    {
        Directory.CreateDirectory(directory);
        await using var log = AuditLog.Open(directory);
        for (var i = 0; i < count; i++)
        {
            await log.AppendAsync(new System.Text.Json.Nodes.JsonObject { ["v"] = 1, ["id"] = $"rec_{start + i}", ["n"] = start + i });
        }
    }

    private static long CountRecords(string directory) =>
        Directory.GetFiles(directory, "*.jsonl").Sum(f => File.ReadLines(f).LongCount());
}
