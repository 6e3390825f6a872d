namespace Signet.Receipts;

/// <summary>Where signed receipts go: the audit log, or anything that keeps them.</summary>
public interface IReceiptSink
{
    /// <summary>Stores the receipt; completes only when it is as durable as the sink promises. Failures propagate.</summary>
    ValueTask AppendAsync(Receipt receipt, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a receipt of something that has already happened (the response to a call whose request receipt was stored
    /// first). A sink may let its durability trail by a short interval instead of waiting for it; the default waits,
    /// as <see cref="AppendAsync"/> does. Failures propagate.
    /// </summary>
    ValueTask AppendDeferredAsync(Receipt receipt, CancellationToken cancellationToken = default) => AppendAsync(receipt, cancellationToken);
}
