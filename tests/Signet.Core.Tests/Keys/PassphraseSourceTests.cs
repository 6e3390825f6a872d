using Signet.Keys;

namespace Signet.Core.Tests.Keys;

public sealed class PassphraseSourceTests : IDisposable
{
    private static readonly PassphraseRequest Unlock = new("agent", "/keys/agent.key", PassphrasePurpose.Unlock);
    private static readonly PassphraseRequest Create = new("agent", "/keys/agent.key", PassphrasePurpose.Create);
    private readonly TempKeysDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("secret\n", "secret")]
    [InlineData("secret\r\n", "secret")]
    [InlineData("secret", "secret")]
    [InlineData("  spaced  \nsecond line\n", "  spaced  ")]
    public void FromFile_ReturnsFirstLineWithoutLineEnding(string content, string expected)
    {
        Directory.CreateDirectory(_dir.Home);
        var path = Path.Combine(_dir.Home, "pass");
        File.WriteAllText(path, content);

        Assert.Equal(expected, PassphraseSource.FromFile(path).GetPassphrase(Unlock));
    }

    [Fact]
    public void FromFile_EmptyFirstLine_IsAnErrorNamingTheFile()
    {
        Directory.CreateDirectory(_dir.Home);
        var path = Path.Combine(_dir.Home, "pass");
        File.WriteAllText(path, "\nsecret\n");

        var e = Assert.Throws<KeyStoreException>(() => PassphraseSource.FromFile(path).GetPassphrase(Unlock));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFile_MissingFile_IsAnErrorNamingTheFile()
    {
        var path = Path.Combine(_dir.Home, "nope");

        var e = Assert.Throws<KeyStoreException>(() => PassphraseSource.FromFile(path).GetPassphrase(Unlock));

        Assert.StartsWith($"passphrase file {path} cannot be read", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_ReadsSignetPassphraseAndTreatsEmptyAsUnset()
    {
        var env = new Dictionary<string, string?> { ["SIGNET_PASSPHRASE"] = "from-env" };
        Assert.Equal("from-env", PassphraseSource.FromEnvironment(env.GetValueOrDefault).GetPassphrase(Unlock));

        env["SIGNET_PASSPHRASE"] = "";
        Assert.Null(PassphraseSource.FromEnvironment(env.GetValueOrDefault).GetPassphrase(Unlock));
    }

    [Fact]
    public void FirstOf_ReturnsFirstAvailable()
    {
        var source = PassphraseSource.FirstOf(PassphraseSource.None, PassphraseSource.Fixed("b"), PassphraseSource.Fixed("c"));

        Assert.Equal("b", source.GetPassphrase(Unlock));
        Assert.Null(PassphraseSource.FirstOf(PassphraseSource.None).GetPassphrase(Unlock));
    }

    [Fact]
    public void Prompt_Unlock_ReadsKeysWithoutEchoAndHandlesBackspace()
    {
        var prompt = new StringWriter();
        var keys = Keys("ab") .Append(Key(ConsoleKey.Backspace, '\b')).Concat(Keys("c")).Append(Key(ConsoleKey.Enter, '\r'));

        var result = PassphraseSource.Prompt(Reader(keys), prompt).GetPassphrase(Unlock);

        Assert.Equal("ac", result);
        Assert.Equal("Passphrase for key \"agent\": " + Environment.NewLine, prompt.ToString());
    }

    [Fact]
    public void Prompt_Create_AsksTwiceAndAcceptsMatchingEntries()
    {
        var prompt = new StringWriter();
        var keys = Keys("pw").Append(Key(ConsoleKey.Enter, '\r')).Concat(Keys("pw")).Append(Key(ConsoleKey.Enter, '\r'));

        var result = PassphraseSource.Prompt(Reader(keys), prompt).GetPassphrase(Create);

        Assert.Equal("pw", result);
        Assert.Contains("Repeat the passphrase", prompt.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("pw", prompt.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Prompt_Create_DifferentEntries_Fails()
    {
        var keys = Keys("one").Append(Key(ConsoleKey.Enter, '\r')).Concat(Keys("two")).Append(Key(ConsoleKey.Enter, '\r'));

        var e = Assert.Throws<KeyStoreException>(() => PassphraseSource.Prompt(Reader(keys), new StringWriter()).GetPassphrase(Create));

        Assert.Contains("the two passphrases differ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("one", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Prompt_Escape_Cancels()
    {
        var keys = Keys("x").Append(Key(ConsoleKey.Escape, '\u001b'));

        Assert.Throws<KeyStoreException>(() => PassphraseSource.Prompt(Reader(keys), new StringWriter()).GetPassphrase(Unlock));
    }

    private static IEnumerable<ConsoleKeyInfo> Keys(string text) => text.Select(c => Key(ConsoleKey.A, c));

    private static ConsoleKeyInfo Key(ConsoleKey key, char c) => new(c, key, false, false, false);

    private static Func<ConsoleKeyInfo> Reader(IEnumerable<ConsoleKeyInfo> keys)
    {
        var queue = new Queue<ConsoleKeyInfo>(keys);
        return () => queue.Count > 0 ? queue.Dequeue() : throw new InvalidOperationException("prompt read past the scripted keys");
    }
}
