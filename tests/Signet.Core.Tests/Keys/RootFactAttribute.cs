using Signet.Keys;

namespace Signet.Core.Tests.Keys;

/// <summary>A fact that needs root on Linux (to act as another user); skipped with that reason otherwise.</summary>
internal sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute(string why)
    {
        if (!OperatingSystem.IsLinux() || UnixCalls.EffectiveUid != 0)
        {
            Skip = "needs root on Linux: " + why;
        }
    }
}
