using Microsoft.Extensions.Options;

namespace Signet.Mcp.Server;

/// <summary>Refuses, when the host starts, verifier settings that <see cref="RequestVerifier"/> would refuse on first use.</summary>
internal sealed class RequestVerifierOptionsValidation : IValidateOptions<RequestVerifierOptions>
{
    public ValidateOptionsResult Validate(string? name, RequestVerifierOptions options)
    {
        var failures = new List<string>();
        if (options.TrustedAgentKeys.Count == 0 && !options.AllowAnyAgentKey && options.TrustBundle is null)
        {
            failures.Add("RequestVerifierOptions.TrustedAgentKeys is empty: add the agents' public keys, set TrustBundle, or set AllowAnyAgentKey to accept any self-consistent receipt (integrity only)");
        }
        if (options.MaxAge <= TimeSpan.Zero)
        {
            failures.Add($"RequestVerifierOptions.MaxAge must be positive, not {options.MaxAge}");
        }
        if (options.ClockSkew < TimeSpan.Zero)
        {
            failures.Add($"RequestVerifierOptions.ClockSkew must not be negative, not {options.ClockSkew}");
        }
        if (options.ExpectedTarget is { Length: 0 })
        {
            failures.Add("RequestVerifierOptions.ExpectedTarget is empty: set the server's URI as agents name it, or leave it unset");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Refuses, when the host starts, co-signing settings without a signer.</summary>
internal sealed class SignetCoSigningOptionsValidation : IValidateOptions<SignetCoSigningOptions>
{
    public ValidateOptionsResult Validate(string? name, SignetCoSigningOptions options) => options.Signer is null
        ? ValidateOptionsResult.Fail("SignetCoSigningOptions.Signer is not set: give the server's ReceiptSigner (its key and name)")
        : ValidateOptionsResult.Success;
}
