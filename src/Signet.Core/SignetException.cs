namespace Signet;

/// <summary>The base of every failure Signet reports as an exception (bad evidence is a result, not an exception).</summary>
public class SignetException : Exception
{
    /// <summary>Creates an exception with a message that says what failed and what to do.</summary>
    public SignetException(string message) : base(message) { }

    /// <summary>Creates an exception with a message and the underlying cause.</summary>
    public SignetException(string message, Exception innerException) : base(message, innerException) { }
}
