using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Signet.Keys;
using Signet.Receipts;

namespace Signet.Mcp.Hosting;

/// <summary>
/// Checks the container's <see cref="SignetOptions"/> when the host starts, with <see cref="SignetOptions.Problems(bool)"/>:
/// a key, signer name or signer the container supplies (a <see cref="ReceiptSigner"/>, a <see cref="SigningKey"/> or <see cref="ISigner"/>, or a
/// <see cref="LoadedKey"/> from <c>WithKeyFromHome</c>) counts as set.
/// </summary>
internal sealed class SignetOptionsValidation(IServiceProviderIsService services) : IValidateOptions<SignetOptions>
{
    public ValidateOptionsResult Validate(string? name, SignetOptions options)
    {
        var signer = services.IsService(typeof(ReceiptSigner));
        var loaded = services.IsService(typeof(LoadedKey));
        var problems = options.Problems(requireTarget: false,
            keyFromServices: signer || loaded || services.IsService(typeof(SigningKey)) || services.IsService(typeof(ISigner)),
            nameFromServices: signer || loaded);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
