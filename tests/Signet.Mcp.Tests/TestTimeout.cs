namespace Signet.Mcp.Tests;

/// <summary>The bound on anything a test waits for that could hang.</summary>
internal static class TestTimeout
{
    public static readonly TimeSpan Value = TimeSpan.FromSeconds(60);
}
