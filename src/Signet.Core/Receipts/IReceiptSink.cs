namespace Signet.Receipts;

/// <summary>Where signed receipts go: the audit log, or anything that keeps them.</summary>
public interface IReceiptSink
{
    /// <summary>Stores the receipt; completes only when it is as durable as the sink promises. Failures propagate.</summary>
    ValueTask AppendAsync(Receipt receipt, CancellationToken cancellationToken = default);
}
