namespace XrfEdge.Devices.Amptek;

/// <summary>Status byte 39, device ID (guide rev A7 §4.2.1; TB5 and DP5-X from rev B3).</summary>
public enum Dp5DeviceType : byte
{
    /// <summary>DP5 (also inside the X-123).</summary>
    Dp5 = 0,

    /// <summary>PX5.</summary>
    Px5 = 1,

    /// <summary>DP5G.</summary>
    Dp5G = 2,

    /// <summary>MCA8000D.</summary>
    Mca8000D = 3,

    /// <summary>TB-5.</summary>
    Tb5 = 4,

    /// <summary>DP5-X .</summary>
    Dp5X = 5,
}
