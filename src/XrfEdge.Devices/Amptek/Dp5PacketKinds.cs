namespace XrfEdge.Devices.Amptek;

/// <summary>Which packets a <see cref="Dp5PacketDecoder"/> accepts beyond the framing rules (sync, LEN &lt; 0x8000, checksum).</summary>
public enum Dp5PacketKinds
{
    /// <summary>
    /// Any PID pair and any LEN up to 32767: the framing rules only. The side that reads requests (the simulated DP5)
    /// uses it, because a DP5 answers an unknown PID pair with a PID-error ACK (guide rev A7 §4.3) rather than
    /// ignoring it.
    /// </summary>
    Any,

    /// <summary>
    /// Responses from a DP5-family device (guide rev A7 Table 2, §4.2; reference note mca-and-files.md §1.5, §1.7):
    /// PID1 is 0x80, 0x81, 0x82, 0x8F or 0xFF; status 80/01 carries 64 bytes; spectrum 81/01–81/0C carries 3n bytes,
    /// or 3n + 64 with status, for its n = 256 · 2^((PID2 − 1) / 2) channels; echo 8F/7F and ACKs (FF/xx) carry at
    /// most 512 bytes, since they repeat part of a request and requests carry at most 512. 82/xx (readback, diagnostic,
    /// list-mode data …) varies in length and is only held to the 32767-byte limit. A header breaking these rules
    /// cannot start a reply, so the decoder drops it at once instead of waiting for up to 32 KB it announces.
    /// </summary>
    Responses,
}
