using System.Diagnostics;
using Signet.Audit;

namespace Signet.Core.Tests.Audit;

/// <summary>Real child processes (tests/Signet.TestHost) appending to one log: SIGKILL crashes and concurrent processes.</summary>
public sealed class AuditProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AppendAsync_ChildKilledAtRandomMoments_EveryReportedRecordSurvivesAndChainVerifies()
    {
        // Two logs killed in parallel (one lane per core), SIGNET_CRASH_KILLS kills in all (default 100).
        var kills = int.TryParse(Environment.GetEnvironmentVariable("SIGNET_CRASH_KILLS"), out var k) ? k : 100;
        await Task.WhenAll(
            Task.Run(() => KillLane(seed: 20261126, rounds: (kills + 1) / 2)),
            Task.Run(() => KillLane(seed: 61121620, rounds: kills / 2)));
    }

    private static async Task KillLane(int seed, int rounds)
    {
        var random = new Random(seed);
        using var dir = new TempDirectory();
        var durable = new HashSet<string>(StringComparer.Ordinal);

        for (var round = 0; round < rounds; round++)
        {
            var waitFor = random.Next(0, 25);
            using var child = StartHost(dir.Path, count: 1_000_000, concurrency: 4, tag: $"k{seed}-{round}");
            var reported = new List<string>();
            using (var cts = new CancellationTokenSource(Timeout))
            {
                while (reported.Count < waitFor && await child.StandardOutput.ReadLineAsync(cts.Token) is { } line)
                {
                    reported.Add(line);
                }
            }
            child.Kill(); // SIGKILL on Unix
            await child.WaitForExitAsync().WaitAsync(Timeout);
            // Anything the child printed before it died was reported durable, including lines still in the pipe.
            var rest = await child.StandardOutput.ReadToEndAsync().WaitAsync(Timeout);
            reported.AddRange(rest.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            durable.UnionWith(reported);

            // The raw log is intact, or ends in a torn line that the next writer moves aside.
            var result = AuditVerifier.Verify(dir.Path);
            Assert.True(result.IsIntact || result.Break!.Kind == AuditBreakKind.TornTail, $"seed {seed} round {round}: {result.Break}");
            var stored = AuditQuery.Read(dir.Path).Select(e => e.RecordHash).ToHashSet(StringComparer.Ordinal);
            var missing = durable.Where(h => !stored.Contains(h)).ToList();
            Assert.True(missing.Count == 0, $"seed {seed} round {round}: {missing.Count} durable records lost, e.g. {missing.FirstOrDefault()}");
        }

        // A final writer recovers whatever the last kill left and continues the chain.
        await using (var log = AuditLog.Open(dir.Path))
        {
            durable.Add((await log.AppendAsync(TestReceipts.V1(1))).RecordHash);
        }
        var final = AuditVerifier.Verify(dir.Path);
        Assert.True(final.IsIntact, final.Break?.ToString());
        var all = AuditQuery.Read(dir.Path).Select(e => e.RecordHash).ToHashSet(StringComparer.Ordinal);
        Assert.Subset(all, durable);
        Assert.True(durable.Count >= rounds / 2, $"only {durable.Count} records were reported durable in {rounds} rounds");
    }

    [Fact]
    public async Task AppendAsync_FourProcessesOnOneHome_OneChainWithEveryRecord()
    {
        using var dir = new TempDirectory();
        const int perProcess = 250;
        var children = Enumerable.Range(0, 4).Select(p => StartHost(dir.Path, perProcess, concurrency: 4, tag: $"p{p}")).ToList();
        try
        {
            var outputs = await Task.WhenAll(children.Select(c => c.StandardOutput.ReadToEndAsync())).WaitAsync(Timeout);
            var errors = await Task.WhenAll(children.Select(c => c.StandardError.ReadToEndAsync())).WaitAsync(Timeout);
            foreach (var c in children)
            {
                await c.WaitForExitAsync().WaitAsync(Timeout);
                Assert.True(c.ExitCode == 0, string.Join("\n", errors));
            }
            var reported = outputs.SelectMany(o => o.Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
            Assert.Equal(4 * perProcess, reported.Count);

            var result = AuditVerifier.Verify(dir.Path);
            Assert.True(result.IsIntact, result.Break?.ToString());
            Assert.Equal(4 * perProcess, result.RecordCount);
            var stored = AuditQuery.Read(dir.Path).ToList();
            Assert.Equal(reported.ToHashSet(), stored.Select(e => e.RecordHash).ToHashSet());
            // The processes really interleaved: the signers alternate more than four times along the chain.
            var switches = stored.Zip(stored.Skip(1)).Count(p => p.First.SignerName != p.Second.SignerName);
            Assert.True(switches >= 4, $"only {switches} switches between processes");
        }
        finally
        {
            foreach (var c in children)
            {
                if (!c.HasExited)
                {
                    c.Kill();
                }
                c.Dispose();
            }
        }
    }

    private static Process StartHost(string directory, int count, int concurrency, string tag)
    {
        var host = Path.Combine(AppContext.BaseDirectory, "Signet.TestHost.dll");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "exec", host, "append", directory, count.ToString(System.Globalization.CultureInfo.InvariantCulture), "durable", concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture), tag })
        {
            info.ArgumentList.Add(arg);
        }
        return Process.Start(info) ?? throw new InvalidOperationException("could not start the test host");
    }
}
