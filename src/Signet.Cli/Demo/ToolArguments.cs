using System.Text.Json;

namespace Signet.Cli.Demo;

/// <summary>Typed access to a <c>tools/call</c>'s arguments, with errors that name the argument and what was expected.</summary>
internal readonly struct ToolArguments(IDictionary<string, JsonElement>? arguments)
{
    public string RequiredString(string name) =>
        Get(name) is { ValueKind: JsonValueKind.String } value
            ? value.GetString()!
            : throw Invalid(name, "a string");

    public double RequiredNumber(string name) =>
        Get(name) is { ValueKind: JsonValueKind.Number } value && value.TryGetDouble(out var number) && double.IsFinite(number)
            ? number
            : throw Invalid(name, "a finite number");

    public int RequiredInteger(string name, int min, int max) =>
        OptionalInteger(name, min, max) ?? throw Invalid(name, $"an integer from {min} to {max}");

    public int? OptionalInteger(string name, int min, int max)
    {
        var value = Get(name);
        if (value is null || value.Value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.Value.ValueKind == JsonValueKind.Number && value.Value.TryGetInt32(out var number) && number >= min && number <= max)
        {
            return number;
        }
        throw Invalid(name, $"an integer from {min} to {max}");
    }

    private JsonElement? Get(string name) =>
        arguments is not null && arguments.TryGetValue(name, out var value) ? value : null;

    private ToolArgumentException Invalid(string name, string expected)
    {
        var actual = Get(name) is { } value ? value.GetRawText() : "nothing";
        return new ToolArgumentException($"Argument '{name}' must be {expected}; got {actual}.");
    }
}

/// <summary>A tool argument that is missing or of the wrong type; reported to the client as a tool error.</summary>
internal sealed class ToolArgumentException(string message) : Exception(message);
