using System.Globalization;

namespace XrfEdge.Spectra.Calibration;

/// <summary>
/// Maps an MCA channel index to photon energy: E(channel) = offset + gain·channel + quadratic·channel²,
/// where E(channel) is the energy of the channel's <em>centre</em>. Channel <c>c</c> therefore covers
/// <c>[E(c − ½), E(c + ½))</c> keV.
/// </summary>
/// <param name="OffsetKeV">Energy of channel 0's centre, keV. Usually within ±1 keV (e.g. −0.955 keV on the NIST Bruker spectra).</param>
/// <param name="GainKeVPerChannel">Linear gain, keV per channel. Usually 0.005–0.1 keV/channel; must be positive.</param>
/// <param name="QuadraticKeVPerChannel2">Quadratic term, keV per channel². Usually |q| &lt; 1e-6; 0 for a linear calibration.</param>
public sealed record EnergyCalibration(double OffsetKeV, double GainKeVPerChannel, double QuadraticKeVPerChannel2 = 0)
{
    /// <summary>
    /// Smallest plausible gain, keV per channel: 0.2 eV. The finest settings seen are 16384 channels over 5–8 keV
    /// (0.3–0.5 eV/channel, a 16k-channel MCA behind an HPGe-class or SDD detector for light elements); detectors resolve
    /// ~125 eV. A gain 1000× too small is a calibration in the wrong unit (keV values labelled eV, or MeV values labelled
    /// keV): every real XRF gain up to 0.2 keV/channel (2.5–40 eV/channel usual) then lands below 0.2 eV and is refused;
    /// accepted, it would pile the whole spectrum into the first 0.1-keV bin. Was 0.5 eV until 2026-11-24, which refused
    /// the 0.3 eV/channel setting.
    /// </summary>
    public const double MinGainKeVPerChannel = 0.0002;

    /// <summary>Largest plausible gain, keV per channel: a 64-channel MCA spanning 100 keV.</summary>
    public const double MaxGainKeVPerChannel = 2.0;

    /// <summary>Largest plausible |offset|, keV.</summary>
    public const double MaxAbsOffsetKeV = 50.0;

    /// <summary>
    /// Largest plausible full scale (upper edge of the last channel), keV: 1000. X-ray tubes for XRF run at 50–160 kV and
    /// the widest MCA ranges seen (CdTe, 64 channels × 2 keV) end near 130 keV, while a calibration written in eV and read
    /// as keV ends at 1000× its true full scale, at least ~4900 "keV" for any real MCA (16384 channels × 0.3 eV). Each
    /// coefficient of such a calibration can look plausible alone (16384 × 1.9 eV/channel: gain 1.9 "keV"), so the whole
    /// range is checked too.
    /// </summary>
    public const double MaxFullScaleKeV = 1000.0;

    /// <summary>Energy of the centre of <paramref name="channel"/> (fractional channels allowed), keV.</summary>
    public double EnergyKeV(double channel) =>
        OffsetKeV + (channel * (GainKeVPerChannel + (channel * QuadraticKeVPerChannel2)));

    /// <summary>Lower edge of channel <paramref name="channel"/>, keV (bins are <c>[lower, upper)</c>).</summary>
    public double LowerEdgeKeV(int channel) => EnergyKeV(channel - 0.5);

    /// <summary>Upper edge of channel <paramref name="channel"/>, keV.</summary>
    public double UpperEdgeKeV(int channel) => EnergyKeV(channel + 0.5);

    /// <summary>
    /// Inverse mapping: the fractional channel whose centre has <paramref name="energyKeV"/>.
    /// Valid only inside the monotonic range checked by <see cref="Validate"/>.
    /// </summary>
    public double Channel(double energyKeV)
    {
        if (QuadraticKeVPerChannel2 == 0)
        {
            return (energyKeV - OffsetKeV) / GainKeVPerChannel;
        }

        // q·c² + g·c + (o − E) = 0; the root continuous with the linear solution as q → 0.
        var c = OffsetKeV - energyKeV;
        var discriminant = (GainKeVPerChannel * GainKeVPerChannel) - (4 * QuadraticKeVPerChannel2 * c);
        if (discriminant < 0)
        {
            return double.NaN;
        }

        return -2 * c / (GainKeVPerChannel + Math.Sqrt(discriminant));
    }

    /// <summary>
    /// Checks that the calibration is usable for a spectrum of <paramref name="channelCount"/> channels:
    /// finite numbers, positive gain, energy strictly increasing over every channel edge, the local gain dE/dc within
    /// <see cref="MinGainKeVPerChannel"/>–<see cref="MaxGainKeVPerChannel"/> over every channel edge, and the last channel
    /// ending at or below <see cref="MaxFullScaleKeV"/>.
    /// </summary>
    /// <returns><see langword="null"/> when usable, otherwise a sentence saying what is wrong.</returns>
    public string? Validate(int channelCount)
    {
        if (channelCount < 1)
        {
            // Checked first: with no channel the edge checks below would test E(−½) against itself and pass.
            return string.Create(CultureInfo.InvariantCulture, $"the spectrum has no channels ({channelCount})");
        }

        if (!double.IsFinite(OffsetKeV) || !double.IsFinite(GainKeVPerChannel) || !double.IsFinite(QuadraticKeVPerChannel2))
        {
            return string.Create(CultureInfo.InvariantCulture, $"calibration has a non-finite coefficient (offset {OffsetKeV} keV, gain {GainKeVPerChannel} keV/channel, quadratic {QuadraticKeVPerChannel2} keV/channel²)");
        }

        if (GainKeVPerChannel <= 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"gain must be positive, got {GainKeVPerChannel} keV/channel");
        }

        if (GainKeVPerChannel < MinGainKeVPerChannel)
        {
            return string.Create(CultureInfo.InvariantCulture, $"gain {GainKeVPerChannel} keV/channel is below the plausible minimum {MinGainKeVPerChannel} (0.2 eV/channel); is a keV calibration labelled eV (or an MeV one labelled keV)?");
        }

        if (GainKeVPerChannel > MaxGainKeVPerChannel)
        {
            return string.Create(CultureInfo.InvariantCulture, $"gain {GainKeVPerChannel} keV/channel is above the plausible maximum {MaxGainKeVPerChannel}");
        }

        if (Math.Abs(OffsetKeV) > MaxAbsOffsetKeV)
        {
            return string.Create(CultureInfo.InvariantCulture, $"offset {OffsetKeV} keV is outside ±{MaxAbsOffsetKeV} keV");
        }

        // dE/dc = g + 2qc must stay positive over every channel edge, i.e. on [−½, n − ½]; it is linear in c, so its ends
        // bound it. Positive is not enough: the local gain must stay as plausible as the linear term is required to be,
        // or a quadratic term in eV/ch² (with the rest in keV), or a fit flattening towards its turning point just past
        // the last channel, passes and spreads the counts over a grid they were never measured on.
        foreach (var edge in new[] { -0.5, channelCount - 0.5 })
        {
            var localGain = GainKeVPerChannel + (2 * QuadraticKeVPerChannel2 * edge);
            if (localGain <= 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"calibration is not monotonic over {channelCount} channels (quadratic term {QuadraticKeVPerChannel2} keV/channel²)");
            }

            if (localGain < MinGainKeVPerChannel || localGain > MaxGainKeVPerChannel)
            {
                return string.Create(CultureInfo.InvariantCulture, $"local gain {localGain:G6} keV/channel at channel edge {edge} is outside the plausible {MinGainKeVPerChannel}–{MaxGainKeVPerChannel} keV/channel (quadratic term {QuadraticKeVPerChannel2} keV/channel²; is it in eV/channel²?)");
            }
        }

        var fullScaleKeV = EnergyKeV(channelCount - 0.5);
        if (fullScaleKeV > MaxFullScaleKeV)
        {
            return string.Create(CultureInfo.InvariantCulture, $"full scale {fullScaleKeV:G6} keV (upper edge of channel {channelCount - 1}) is above the plausible maximum {MaxFullScaleKeV} keV; is an eV calibration labelled keV?");
        }

        return null;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"E = {OffsetKeV:G6} + {GainKeVPerChannel:G6}·ch + {QuadraticKeVPerChannel2:G4}·ch² keV");
}
