using Microsoft.Extensions.Options;

namespace Signet.Bridge.Http;

/// <summary>Checks the container's <see cref="BridgeOptions"/> when the host starts (the token may be unset: the host may authorize instead).</summary>
internal sealed class BridgeOptionsValidation : IValidateOptions<BridgeOptions>
{
    public ValidateOptionsResult Validate(string? name, BridgeOptions options)
    {
        try
        {
            BridgeConfig.ValidateStructure(options);
            return ValidateOptionsResult.Success;
        }
        catch (SignetException e)
        {
            return ValidateOptionsResult.Fail("BridgeOptions: " + e.Message);
        }
    }
}
