using Signet.Benchmarks;

// End-to-end harnesses, chosen with --harness NAME.
var harness = args.SkipWhile(a => a != "--harness").Skip(1).FirstOrDefault();
return harness switch
{
    "bridge" => await BridgeHarness.RunAsync(args),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/Signet.Benchmarks -- --harness bridge [options]");
    return 2;
}
