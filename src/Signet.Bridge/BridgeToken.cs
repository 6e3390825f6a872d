namespace Signet.Bridge;

/// <summary>The bridge's bearer token: read from a file, or generated (32 random bytes, base64url) into a new 0600 file.</summary>
public static class BridgeToken
{
    /// <summary>The environment variable that can carry the token instead of a file.</summary>
    public const string EnvironmentVariable = "SIGNET_BRIDGE_TOKEN";

    /// <summary>
    /// Reads the token in <paramref name="path"/>; when the file does not exist, generates one, writes it (owner-only
    /// permissions where the OS has them) and sets <paramref name="created"/> so the caller can show it once.
    /// </summary>
    public static string LoadOrCreate(string path, RandomSource random, out bool created)
    {
        if (File.Exists(path))
        {
            created = false;
            var text = File.ReadAllText(path).Trim();
            if (text.Length < 16)
            {
                throw new SignetException($"token file '{path}' holds fewer than 16 characters; delete it to generate a new token");
            }
            return text;
        }
        Span<byte> bytes = stackalloc byte[32];
        random.Fill(bytes);
        var token = Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(token + "\n");
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        created = true;
        return token;
    }
}
