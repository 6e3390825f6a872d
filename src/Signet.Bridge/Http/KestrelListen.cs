using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Signet.Bridge.Http;

/// <summary>Binds Kestrel to parsed listen addresses: <c>localhost</c>, every interface, or one IP; HTTPS where asked.</summary>
internal static class KestrelListen
{
    public static void Bind(KestrelServerOptions kestrel, IEnumerable<ListenAddress> listen)
    {
        foreach (var address in listen)
        {
            void Configure(ListenOptions o)
            {
                if (address.Https)
                {
                    o.UseHttps();
                }
            }
            if (address.Host == "localhost")
            {
                kestrel.ListenLocalhost(address.Port, Configure);
            }
            else if (address.IsAnyAddress)
            {
                kestrel.ListenAnyIP(address.Port, Configure);
            }
            else
            {
                kestrel.Listen(IPAddress.Parse(address.Host.Trim('[', ']')), address.Port, Configure);
            }
        }
    }
}
