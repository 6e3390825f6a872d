using System.Reflection;
using ModelContextProtocol.Client;

namespace Signet.Mcp.Tests.Interop;

/// <summary>The built <c>signet</c> CLI (same configuration as the tests), run as a real child with <c>dotnet signet.dll</c>.</summary>
internal static class SignetExecutable
{
    /// <summary>The full path of signet.dll, stamped into this assembly at build time.</summary>
    public static string Dll { get; } = Find();

    /// <summary>The program that runs the CLI: the <c>dotnet</c> host running these tests.</summary>
    public static string DotnetHost { get; } = Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet"
        ? host
        : "dotnet";

    /// <summary>The command line (program, arguments) that runs <c>signet ARGS…</c>.</summary>
    public static (string FileName, string[] Arguments) Command(params string[] arguments) => (DotnetHost, [Dll, .. arguments]);

    /// <summary>Options for the SDK's <see cref="StdioClientTransport"/> that start <c>signet demo-server</c>.</summary>
    public static StdioClientTransportOptions DemoServer(Action<string>? stderrLines = null, params string[] extraArguments) => new()
    {
        Name = "signet-demo",
        Command = DotnetHost,
        Arguments = [Dll, "demo-server", .. extraArguments],
        StandardErrorLines = stderrLines,
    };

    private static string Find()
    {
        var path = typeof(SignetExecutable).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "SignetCliDll")?.Value;
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new InvalidOperationException($"signet.dll not found at '{path}'; build the solution (dotnet build Signet.sln).");
        }
        return path;
    }
}
