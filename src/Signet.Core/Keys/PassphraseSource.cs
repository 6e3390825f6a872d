using System.Text;

namespace Signet.Keys;

/// <summary>Where the passphrase of an encrypted key comes from: a value, <c>SIGNET_PASSPHRASE</c>, a file or a prompt.</summary>
/// <remarks>A source returns <see langword="null"/> when it has nothing to give; the key store then reports what to set.</remarks>
public abstract class PassphraseSource
{
    /// <summary>The environment variable that supplies a passphrase where no terminal can prompt.</summary>
    public const string EnvironmentVariable = "SIGNET_PASSPHRASE";

    /// <summary>A source that never has a passphrase.</summary>
    public static PassphraseSource None { get; } = new NoneSource();

    /// <summary>Returns the passphrase, or <see langword="null"/> when this source has none.</summary>
    public abstract string? GetPassphrase(PassphraseRequest request);

    /// <summary>Always the given passphrase.</summary>
    public static PassphraseSource Fixed(string passphrase)
    {
        ArgumentNullException.ThrowIfNull(passphrase);
        return new FixedSource(passphrase);
    }

    /// <summary>The value of <c>SIGNET_PASSPHRASE</c> (unset or empty means none).</summary>
    public static PassphraseSource FromEnvironment(Func<string, string?>? getEnvironmentVariable = null) =>
        new EnvironmentSource(EnvironmentVariable, getEnvironmentVariable ?? Environment.GetEnvironmentVariable);

    /// <summary>The value of another variable (<c>SIGNET_PKCS11_PIN</c> for token PINs); unset or empty means none.</summary>
    internal static PassphraseSource FromEnvironment(string variable, Func<string, string?> getEnvironmentVariable) =>
        new EnvironmentSource(variable, getEnvironmentVariable);

    /// <summary>The first line of a file, without its line ending (<c>--passphrase-file</c>).</summary>
    public static PassphraseSource FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new FileSource(path);
    }

    /// <summary>An interactive prompt that does not echo: keys come from <paramref name="readKey"/>, the prompt text goes to <paramref name="prompt"/>.</summary>
    /// <remarks>For <see cref="PassphrasePurpose.Create"/> it asks twice and fails if the two entries differ.</remarks>
    public static PassphraseSource Prompt(Func<ConsoleKeyInfo> readKey, TextWriter prompt)
    {
        ArgumentNullException.ThrowIfNull(readKey);
        ArgumentNullException.ThrowIfNull(prompt);
        return new PromptSource(readKey, prompt);
    }

    /// <summary>The first of the sources that has a passphrase.</summary>
    public static PassphraseSource FirstOf(params PassphraseSource[] sources) => new FirstOfSource([.. sources]);

    private sealed class NoneSource : PassphraseSource
    {
        public override string? GetPassphrase(PassphraseRequest request) => null;
    }

    private sealed class FixedSource(string passphrase) : PassphraseSource
    {
        public override string? GetPassphrase(PassphraseRequest request) => passphrase;
    }

    private sealed class EnvironmentSource(string variable, Func<string, string?> getEnvironmentVariable) : PassphraseSource
    {
        public override string? GetPassphrase(PassphraseRequest request)
        {
            var value = getEnvironmentVariable(variable);
            return string.IsNullOrEmpty(value) ? null : value;
        }
    }

    private sealed class FileSource(string path) : PassphraseSource
    {
        public override string? GetPassphrase(PassphraseRequest request)
        {
            string text;
            try
            {
                text = File.ReadAllText(path, Encoding.UTF8);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                var (what, option) = Words(request);
                throw new KeyStoreException(
                    $"{what} file {path} cannot be read ({e.Message}); check the {option} path and its permissions", path, e);
            }
            var end = text.IndexOf('\n', StringComparison.Ordinal);
            var line = (end < 0 ? text : text[..end]).TrimEnd('\r');
            if (line.Length == 0)
            {
                var (what, _) = Words(request);
                throw new KeyStoreException($"{what} file {path} has an empty first line; put the {what} on its first line", path);
            }
            return line;
        }
    }

    private static (string What, string Option) Words(PassphraseRequest request) =>
        request.Purpose == PassphrasePurpose.TokenPin ? ("PIN", "--pin-file") : ("passphrase", "--passphrase-file");

    private sealed class PromptSource(Func<ConsoleKeyInfo> readKey, TextWriter prompt) : PassphraseSource
    {
        public override string? GetPassphrase(PassphraseRequest request)
        {
            if (request.Purpose == PassphrasePurpose.TokenPin)
            {
                return Ask($"PIN for token \"{request.KeyName}\": ");
            }
            if (request.Purpose == PassphrasePurpose.Unlock)
            {
                return Ask($"Passphrase for key \"{request.KeyName}\": ");
            }
            var first = Ask($"New passphrase for key \"{request.KeyName}\": ");
            var second = Ask("Repeat the passphrase: ");
            if (!string.Equals(first, second, StringComparison.Ordinal))
            {
                throw new KeyStoreException($"the two passphrases differ; key \"{request.KeyName}\" was not created, run the command again");
            }
            return first;
        }

        private string Ask(string text)
        {
            prompt.Write(text);
            prompt.Flush();
            var entered = new StringBuilder();
            while (true)
            {
                var key = readKey();
                switch (key.Key)
                {
                    case ConsoleKey.Enter:
                        prompt.WriteLine();
                        return entered.ToString();
                    case ConsoleKey.Escape:
                        prompt.WriteLine();
                        throw new KeyStoreException("passphrase entry cancelled");
                    case ConsoleKey.Backspace:
                        if (entered.Length > 0)
                        {
                            // Remove a whole surrogate pair so no half character is left behind.
                            var remove = entered.Length >= 2 && char.IsLowSurrogate(entered[^1]) && char.IsHighSurrogate(entered[^2]) ? 2 : 1;
                            entered.Length -= remove;
                        }
                        break;
                    default:
                        if (key.KeyChar == '\u0004' && entered.Length == 0)
                        {
                            prompt.WriteLine();
                            throw new KeyStoreException("passphrase entry cancelled (end of input)");
                        }
                        if (!char.IsControl(key.KeyChar))
                        {
                            entered.Append(key.KeyChar);
                        }
                        break;
                }
            }
        }
    }

    private sealed class FirstOfSource(PassphraseSource[] sources) : PassphraseSource
    {
        public override string? GetPassphrase(PassphraseRequest request)
        {
            foreach (var source in sources)
            {
                if (source.GetPassphrase(request) is { } passphrase)
                {
                    return passphrase;
                }
            }
            return null;
        }
    }
}
