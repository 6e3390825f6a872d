namespace Signet.Mcp.Tests.Interop;

/// <summary>Finds the pinned @modelcontextprotocol/server-everything that <c>bash test.sh</c> installs.</summary>
internal static class ServerEverything
{
    public static string EntryPoint { get; } = Find();

    private static string Find()
    {
        const string relative = "node_modules/@modelcontextprotocol/server-everything/dist/index.js";
        var env = Environment.GetEnvironmentVariable("SIGNET_NPM_PEERS");
        if (!string.IsNullOrEmpty(env))
        {
            return Path.Combine(env, relative);
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Signet.sln")))
            {
                var path = Path.Combine(dir.FullName, "tests", "interop", relative);
                return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: run `bash test.sh` to install the npm peers");
            }
        }
        throw new InvalidOperationException("repository root not found");
    }
}
