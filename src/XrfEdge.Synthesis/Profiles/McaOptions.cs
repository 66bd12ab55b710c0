namespace XrfEdge.Synthesis.Profiles;

/// <summary>MCA channelling and calibration spread.</summary>
/// <param name="ChannelCounts">Channel counts to choose from (uniformly): 1024, 2048, 4096, 8192.</param>
/// <param name="FullScaleKeV">Energy of the last channel, keV: 20–60. Gain = (full scale − offset) / channels.</param>
/// <param name="OffsetKeV">Energy of channel 0's centre, keV: −1.0 … +0.1 (−0.955 on the NIST Bruker spectra).</param>
/// <param name="QuadraticShareOfFullScale">Quadratic term as the share of full scale it adds at the last channel (q·n² / full scale), −0.002 … 0.002.</param>
/// <param name="GainErrorRelative">Relative error of the reported gain against the true one (drift since calibration), e.g. ±0.003.</param>
/// <param name="OffsetErrorKeV">Error of the reported offset against the true one, keV, e.g. ±0.015.</param>
public sealed record McaOptions(
    IReadOnlyList<int> ChannelCounts,
    [property: System.Text.Json.Serialization.JsonPropertyName("full_scale_kev")] ValueRange FullScaleKeV,
    [property: System.Text.Json.Serialization.JsonPropertyName("offset_kev")] ValueRange OffsetKeV,
    ValueRange QuadraticShareOfFullScale,
    ValueRange GainErrorRelative,
    [property: System.Text.Json.Serialization.JsonPropertyName("offset_error_kev")] ValueRange OffsetErrorKeV);
