namespace Signet.Audit;

/// <summary>A record to append: the receipt's compact JSON as it goes into the line, and its canonical bytes for the hash.</summary>
internal class PendingRecord(byte[] json, byte[] canonical)
{
    public byte[] Json { get; } = json;

    public byte[] Canonical { get; } = canonical;
}
