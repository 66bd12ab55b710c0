using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using XrfEdge.Inference;
using XrfEdge.Inference.Native;
using XrfEdge.Service.Options;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// The analysis stage over XrfEdge.Inference: <see cref="LineEncoder"/> (ONNX Runtime, contract-checked against the
/// card and the catalogue) and <see cref="SpectrumIdentifier"/> (rebin → encode → decode), then the profile's
/// Decoder rules that are local decisions of the instrument: the minimum element probability and the ignored symbols.
/// A spectrum that ends below 30 keV is logged as a warning once per coverage (status and end energy; in practice once
/// per acquisition profile, whose calibration fixes it), not per spectrum.
/// </summary>
internal sealed class EncoderAnalyzer : ISpectrumAnalyzer
{
    private readonly LineEncoder _encoder;
    private readonly SpectrumIdentifier _identifier;
    private readonly double? _minElementProbability;
    private readonly HashSet<string> _ignore;
    private readonly ILogger _logger;

    // Coverages already warned about: statuses and end and start energies to 0.1 keV. Bounded, so that a replay mixing many
    // calibrations cannot grow it without end (past the bound, new coverages are no longer logged; results still say).
    private readonly ConcurrentDictionary<(CoverageStatus Status, long UpperTenthsKeV, StartStatus LowerStatus, long LowerTenthsKeV), bool> _coverageWarned = new();
    private const int MaxCoverageWarnings = 32;

    public EncoderAnalyzer(ModelOptions model, DecoderOptions decoder, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(decoder);
        _encoder = LineEncoder.Open(
            model.Path,
            new LineEncoderOptions
            {
                CardPath = model.CardPath,
                OnnxRuntimeLibraryPath = model.OnnxRuntimeLibraryPath,
                Session = new OnnxSessionOptions { IntraOpThreads = model.IntraOpThreads },
            },
            logger);
        _identifier = new SpectrumIdentifier(_encoder, decoder.ThresholdScale, countRangePolicy: decoder.AboveTrainedCounts);
        _minElementProbability = decoder.MinElementProbability;
        _ignore = new HashSet<string>(decoder.IgnoreElements, StringComparer.Ordinal);
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    public ModelIdentity Model => _encoder.Identity;

    public IReadOnlyList<Identification> Identify(IReadOnlyList<RawSpectrum> spectra)
    {
        ArgumentNullException.ThrowIfNull(spectra);
        var results = SharesOneCalibration(spectra) ? _identifier.Identify(spectra) : IdentifyGroupedByCalibration(spectra);
        WarnShortCoverage(results);
        if (_minElementProbability is null && _ignore.Count == 0)
        {
            return results;
        }

        for (int i = 0; i < results.Length; i++)
        {
            var r = results[i];
            results[i] = r with
            {
                Elements = r.Elements.Where(e => !_ignore.Contains(e.Symbol) && (_minElementProbability is not { } min || e.Probability >= min)).ToList(),
                Lines = r.Lines.Where(l => !_ignore.Contains(l.Line.Element)).ToList(),
            };
        }

        return results;
    }

    public void Dispose() => _encoder.Dispose();

    private void WarnShortCoverage(Identification[] results)
    {
        foreach (var result in results)
        {
            // The usual case (full end, trained start) has nothing to say; any other is looked up by its key first, so the
            // warning text is formatted once per coverage, not once per spectrum of a short or late-starting profile.
            if (result.Coverage is not { } coverage
                || coverage is { Status: CoverageStatus.Full, LowerStatus: StartStatus.Trained }
                || _coverageWarned.Count >= MaxCoverageWarnings)
            {
                continue;
            }

            var key = (coverage.Status, (long)Math.Round(coverage.UpperKeV * 10), coverage.LowerStatus, (long)Math.Round(coverage.LowerKeV * 10));
            if (_coverageWarned.TryAdd(key, true) && EnergyCoverageJson.Warning(coverage) is { } warning)
            {
                Log.CoverageShort(_logger, EnergyCoverageJson.StatusName(coverage.Status), EnergyCoverageJson.StartStatusName(coverage.LowerStatus), warning);
            }
        }
    }

    private static bool SharesOneCalibration(IReadOnlyList<RawSpectrum> spectra)
    {
        for (int i = 1; i < spectra.Count; i++)
        {
            if (spectra[i].Counts.Length != spectra[0].Counts.Length || !spectra[i].Calibration.Equals(spectra[0].Calibration))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// A batch mixing calibrations (a replay of spectra from several instruments; an MCA source stamps one
    /// calibration on all): the identifier keeps one precomputed rebin plan and rebuilds it whenever the calibration
    /// changes, which costs more than the rest of the path per spectrum. Ordering the batch by calibration makes that
    /// once per calibration instead of once per spectrum, in the same single encoder run; results go back in input order.
    /// </summary>
    private Identification[] IdentifyGroupedByCalibration(IReadOnlyList<RawSpectrum> spectra)
    {
        var order = new int[spectra.Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) =>
        {
            RawSpectrum x = spectra[a], y = spectra[b];
            int c = x.Counts.Length.CompareTo(y.Counts.Length);
            c = c != 0 ? c : x.Calibration.OffsetKeV.CompareTo(y.Calibration.OffsetKeV);
            c = c != 0 ? c : x.Calibration.GainKeVPerChannel.CompareTo(y.Calibration.GainKeVPerChannel);
            c = c != 0 ? c : x.Calibration.QuadraticKeVPerChannel2.CompareTo(y.Calibration.QuadraticKeVPerChannel2);
            return c != 0 ? c : a.CompareTo(b);
        });
        var sorted = new RawSpectrum[order.Length];
        for (int k = 0; k < order.Length; k++)
        {
            sorted[k] = spectra[order[k]];
        }

        var sortedResults = _identifier.Identify(sorted);
        var results = new Identification[order.Length];
        for (int k = 0; k < order.Length; k++)
        {
            results[order[k]] = sortedResults[k];
        }

        return results;
    }
}
