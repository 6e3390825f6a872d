using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Signet.Benchmarks;

// BenchmarkDotNet micro-benchmarks by default; end-to-end harnesses (real processes, real files) with --harness NAME.
if (args.Length >= 2 && args[0] == "--harness")
{
    return await Harnesses.RunAsync(args[1], args[2..]);
}

// In-process: the repository's build rules (warnings as errors, central versions) would break BenchmarkDotNet's
// generated project, and one process is kinder to a 2-core machine.
var config = DefaultConfig.Instance.AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).AsDefault());
BenchmarkSwitcher.FromAssembly(typeof(Harnesses).Assembly).Run(args, config);
return 0;
