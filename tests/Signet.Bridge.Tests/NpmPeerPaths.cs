namespace Signet.Bridge.Tests;

/// <summary>Finds the pinned npm peers (tests/interop/node_modules, installed by test.sh).</summary>
internal static class NpmPeerPaths
{
    public static string InteropDirectory
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "interop");
                if (Directory.Exists(Path.Combine(candidate, "node_modules")))
                {
                    return candidate;
                }
                dir = dir.Parent;
            }
            var fromEnv = Environment.GetEnvironmentVariable("SIGNET_INTEROP_DIR");
            if (fromEnv is not null && Directory.Exists(Path.Combine(fromEnv, "node_modules")))
            {
                return fromEnv;
            }
            throw new InvalidOperationException("npm peers not installed: run 'bash test.sh' (it runs npm ci in tests/interop)");
        }
    }

    public static string ServerEverything => Path.Combine(InteropDirectory, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");

    public static string Node => "node";
}
