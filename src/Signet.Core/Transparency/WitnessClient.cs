using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Signet.Transparency;

/// <summary>One witness a log publishes to: its submission URL and the verifier key its cosignatures must verify with.</summary>
/// <param name="Url">The submission prefix; requests go to <c>&lt;Url&gt;/add-checkpoint</c>.</param>
/// <param name="Key">The witness's cosignature verifier key (type 0x04).</param>
public sealed record WitnessEndpoint(Uri Url, NoteVerifierKey Key)
{
    /// <summary>Parses <c>URL=VKEY</c> (the <c>--witness</c> form).</summary>
    /// <exception cref="SignetException">Not that form, not an http(s) URL, or not a cosignature verifier key.</exception>
    public static WitnessEndpoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // The vkey holds no '=' before its base64 part, but the URL may; split at the '=' before the vkey's name.
        var plus = text.IndexOf('+', StringComparison.Ordinal);
        var equals = plus < 0 ? text.LastIndexOf('=') : text.LastIndexOf('=', plus);
        if (equals <= 0 || equals == text.Length - 1)
        {
            throw new SignetException($"witness \"{text}\": give URL=VKEY, the witness's URL and its verifier key as 'signet witness serve' prints it");
        }
        var url = text[..equals];
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new SignetException($"witness \"{text}\": \"{url}\" is not an http or https URL");
        }
        NoteVerifierKey key;
        try
        {
            key = NoteVerifierKey.Parse(text[(equals + 1)..]);
        }
        catch (SignetException e)
        {
            throw new SignetException($"witness \"{text}\": {e.Message}", e);
        }
        if (key.Type != NoteVerifierKey.CosignatureType)
        {
            throw new SignetException($"witness \"{text}\": the key is not a cosignature key (type 0x04); use the key 'signet witness serve' prints");
        }
        return new WitnessEndpoint(uri, key);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Url}={Key}";
}

/// <summary>Why a witness did not cosign.</summary>
public enum WitnessFailureKind
{
    /// <summary>It could not be reached, or timed out.</summary>
    Unreachable,

    /// <summary>409: it last cosigned another size (<see cref="WitnessException.LatestSize"/>).</summary>
    Conflict,

    /// <summary>It refused the checkpoint (400, 403, 404, 422): the status and its message say why.</summary>
    Refused,

    /// <summary>It answered something that is not a valid cosignature from its key.</summary>
    BadResponse,
}

/// <summary>A witness did not cosign; <see cref="Kind"/> says how, the message says what to do.</summary>
public sealed class WitnessException : SignetException
{
    /// <summary>Creates the exception.</summary>
    public WitnessException(WitnessFailureKind kind, string message, int? statusCode = null, long? latestSize = null, Exception? inner = null)
        : base(message, inner ?? new InvalidOperationException(message))
    {
        Kind = kind;
        StatusCode = statusCode;
        LatestSize = latestSize;
    }

    /// <summary>How it failed.</summary>
    public WitnessFailureKind Kind { get; }

    /// <summary>The HTTP status, when the witness answered.</summary>
    public int? StatusCode { get; }

    /// <summary>With <see cref="WitnessFailureKind.Conflict"/>: the size the witness last cosigned.</summary>
    public long? LatestSize { get; }
}

/// <summary>The log side of C2SP tlog-witness: submits a checkpoint with a consistency proof and checks the cosignature it gets back.</summary>
/// <remarks>Thread-safe; reuse one per process (it uses the <see cref="HttpClient"/> it is given, with keep-alive).</remarks>
public sealed class WitnessClient
{
    /// <summary>The largest answer read from a witness.</summary>
    public const int MaxResponseBytes = 64 * 1024;

    private readonly HttpClient _http;
    private readonly string? _token;

    /// <summary>A client over <paramref name="http"/>; <paramref name="token"/> is sent as a bearer token when given.</summary>
    public WitnessClient(HttpClient http, string? token = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _token = string.IsNullOrEmpty(token) ? null : token;
    }

    /// <summary>
    /// Sends <c>add-checkpoint</c> with the old size the witness is believed to hold and the consistency proof from it;
    /// returns the witness's cosignature, verified with its key.
    /// </summary>
    /// <exception cref="WitnessException">The witness was unreachable, refused, answered 409 (with its size), or answered garbage.</exception>
    public async Task<NoteSignature> AddCheckpointAsync(WitnessEndpoint witness, long oldSize, IReadOnlyList<byte[]> proof, SignedCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(witness);
        ArgumentNullException.ThrowIfNull(checkpoint);
        var url = new Uri(witness.Url.AbsoluteUri.TrimEnd('/') + "/add-checkpoint");
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(AddCheckpointRequest.Format(oldSize, proof, checkpoint))),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        if (_token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        }
        HttpResponseMessage response;
        string body;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            body = await ReadBodyAsync(response, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new WitnessException(WitnessFailureKind.Unreachable, $"witness {witness.Key.Name} at {url} could not be reached: {e.Message}", inner: e);
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                long latest;
                try
                {
                    latest = AddCheckpointRequest.ParseConflict(body);
                }
                catch (SignetException e)
                {
                    throw new WitnessException(WitnessFailureKind.BadResponse, $"witness {witness.Key.Name} answered 409 without a tree size: {e.Message}", status, inner: e);
                }
                throw new WitnessException(WitnessFailureKind.Conflict, $"witness {witness.Key.Name} last cosigned size {latest}, not {oldSize}", status, latest);
            }
            if (!response.IsSuccessStatusCode)
            {
                var kind = status is 400 or 401 or 403 or 404 or 422 ? WitnessFailureKind.Refused : WitnessFailureKind.Unreachable;
                throw new WitnessException(kind, $"witness {witness.Key.Name} refused the checkpoint of size {checkpoint.Checkpoint.Size}: {status} {Shorten(body.Trim())}", status);
            }
            return FindCosignature(witness, checkpoint, body, status);
        }
    }

    private static NoteSignature FindCosignature(WitnessEndpoint witness, SignedCheckpoint checkpoint, string body, int status)
    {
        IReadOnlyList<NoteSignature> signatures;
        try
        {
            signatures = AddCheckpointRequest.ParseResponse(body);
        }
        catch (SignetException e)
        {
            throw new WitnessException(WitnessFailureKind.BadResponse, $"witness {witness.Key.Name} answered something that is not signature lines: {e.Message}", status, inner: e);
        }
        foreach (var signature in signatures)
        {
            if (signature.KeyName == witness.Key.Name && signature.KeyId == witness.Key.KeyId)
            {
                if (!Cosignature.Verify(witness.Key, checkpoint.Note.Text, signature, out _))
                {
                    throw new WitnessException(WitnessFailureKind.BadResponse, $"witness {witness.Key.Name} answered a cosignature that does not verify with its key {witness.Key}", status);
                }
                return signature;
            }
        }
        throw new WitnessException(WitnessFailureKind.BadResponse, $"witness {witness.Key.Name} answered no cosignature from its key {witness.Key} (check the key given with --witness)", status);
    }

    private static async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[MaxResponseBytes + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
        }
        if (total > MaxResponseBytes)
        {
            throw new IOException($"the answer is larger than {MaxResponseBytes} bytes");
        }
        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
