using Signet.Fuzz;

// signet-fuzz TARGET                 run under afl-fuzz (input on stdin or the file afl names; one run without afl)
// signet-fuzz TARGET --replay FILE…  run each file once in-process and print the first unexpected exception
// signet-fuzz --list                 the target names
if (args.Length == 1 && args[0] == "--list")
{
    Console.WriteLine(string.Join('\n', Targets.Names));
    return 0;
}
if (args.Length < 1 || !Targets.TryGet(args[0], out var target))
{
    Console.Error.WriteLine($"usage: signet-fuzz TARGET [--replay FILE...]; targets: {string.Join(", ", Targets.Names)}");
    return 2;
}
if (args.Length >= 2 && args[1] == "--replay")
{
    return Replay.Run(target, args[2..]);
}
SharpFuzz.Fuzzer.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
});
return 0;
