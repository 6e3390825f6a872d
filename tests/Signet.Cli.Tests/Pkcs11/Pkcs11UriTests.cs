using Signet.Cli.Pkcs11;

namespace Signet.Cli.Tests.Pkcs11;

public sealed class Pkcs11UriTests
{
    [Fact]
    public void Parse_PathAndQueryAttributes_PercentDecoded()
    {
        var uri = Pkcs11Uri.Parse("pkcs11:token=My%20Token;manufacturer=SoftHSM%20project;model=SoftHSM%20v2;serial=4e6a;object=agent%3Bkey;id=%01%ff%A0;type=private" +
            "?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:///run/secrets/pin");

        Assert.Equal("My Token", uri.Token);
        Assert.Equal("SoftHSM project", uri.Manufacturer);
        Assert.Equal("SoftHSM v2", uri.Model);
        Assert.Equal("4e6a", uri.Serial);
        Assert.Equal("agent;key", uri.Object);
        Assert.Equal(new byte[] { 0x01, 0xff, 0xa0 }, uri.Id);
        Assert.Equal("/usr/lib/softhsm/libsofthsm2.so", uri.ModulePath);
        Assert.Equal("/run/secrets/pin", uri.PinSource);
        Assert.Equal("agent;key", uri.SignerName);
    }

    [Fact]
    public void Parse_Utf8AndUnescapedNonAscii_DecodedToTheSameLabel()
    {
        Assert.Equal("clé😀", Pkcs11Uri.Parse("pkcs11:object=cl%C3%A9%F0%9F%98%80").Object);
        Assert.Equal("clé😀", Pkcs11Uri.Parse("pkcs11:object=clé😀").Object);
        Assert.Equal("a😀b", Pkcs11Uri.Parse("pkcs11:object=a😀%62").Object);
    }

    [Fact]
    public void Parse_SchemeInAnyCase_Accepted()
    {
        Assert.True(Pkcs11Uri.IsUri("PKCS11:object=a"));
        Assert.Equal("a", Pkcs11Uri.Parse("PKCS11:object=a").Object);
        Assert.False(Pkcs11Uri.IsUri("default"));
    }

    [Theory]
    [InlineData("pkcs11:token=T;slot-id=3;object=a", "path attribute \"slot-id\" is not supported")]
    [InlineData("pkcs11:token=T;x-vendor=1;object=a", "path attribute \"x-vendor\" is not supported")]
    [InlineData("pkcs11:object=a?module-name=softhsm2", "query attribute \"module-name\" is not supported")]
    [InlineData("pkcs11:object=a;object=b", "attribute \"object\" is given twice")]
    [InlineData("pkcs11:token=T", "names no key: add object=LABEL")]
    [InlineData("pkcs11:object=a;type=cert", "type=\"cert\" names no signing key")]
    [InlineData("pkcs11:object=a%2", "'%' that is not followed by two hex digits")]
    [InlineData("pkcs11:object=a%zz", "'%' that is not followed by two hex digits")]
    [InlineData("pkcs11:object=%ff%fe", "object is not UTF-8")]
    [InlineData("pkcs11:object", "\"object\" is not NAME=VALUE")]
    [InlineData("pkcs11:object=a?pin-source=https://example.com/pin", "pin-source \"https://example.com/pin\" is not a file")]
    [InlineData("pkcs11:object=a?pin-value=1234", "must not carry the PIN")]
    public void Parse_Unsupported_FormatExceptionSaysWhat(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => Pkcs11Uri.Parse(text));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pkcs11:object=a?pin-value=s3cret-pin")]
    [InlineData("pkcs11:slot-id=1;object=a?pin-value=s3cret-pin")]
    [InlineData("pkcs11:object=a?module-name=x&pin-value=s3cret-pin")]
    public void Parse_PinValue_RefusedWithoutRepeatingThePin(string text)
    {
        var error = Assert.Throws<FormatException>(() => Pkcs11Uri.Parse(text));
        Assert.Contains("must not carry the PIN", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pin", error.Message, StringComparison.Ordinal);
    }
}
