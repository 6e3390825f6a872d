using Microsoft.Extensions.Time.Testing;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Mcp.Tests;

/// <summary>Fresh keys and signers for tests; keys live for the test run.</summary>
internal static class TestKeys
{
    public static SigningKey Agent { get; } = SigningKey.Generate();

    public static SigningKey Server { get; } = SigningKey.Generate();

    public static SigningKey Other { get; } = SigningKey.Generate();

    public static ReceiptSigner AgentSigner(TimeProvider? time = null) => new(Agent, "test-agent", "tests", time);

    public static ReceiptSigner ServerSigner(TimeProvider? time = null, SigningKey? key = null) => new(key ?? Server, "test-server", "", time);

    public static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero)) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };
}
