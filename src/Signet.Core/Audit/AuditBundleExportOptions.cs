namespace Signet.Audit;

/// <summary>Options for <see cref="AuditBundle.Export(string, string, Signet.Keys.ISigner, AuditBundleExportOptions?)"/>.</summary>
public sealed record AuditBundleExportOptions
{
    /// <summary>The clock for <c>generated_at</c>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The <c>host</c> field (default: the machine name).</summary>
    public string? Host { get; init; }
}
