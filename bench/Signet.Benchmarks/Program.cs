using Signet.Benchmarks;

// End-to-end latency harnesses (Stopwatch over real processes); select one with --harness NAME.
var harness = args.SkipWhile(a => a != "--harness").Skip(1).FirstOrDefault();
var rest = args.Where((a, i) => a != "--harness" && (i == 0 || args[i - 1] != "--harness")).ToArray();
return harness switch
{
    "proxy" => await ProxyHarness.RunAsync(rest),
    "proxy-host" => await ProxyHost.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Signet.Benchmarks --harness proxy [--signet PATH] [--calls N] [--rounds N] [--launches N]");
    return 2;
}
