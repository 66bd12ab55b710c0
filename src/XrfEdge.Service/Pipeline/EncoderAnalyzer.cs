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
/// </summary>
internal sealed class EncoderAnalyzer : ISpectrumAnalyzer
{
    private readonly LineEncoder _encoder;
    private readonly SpectrumIdentifier _identifier;
    private readonly double? _minElementProbability;
    private readonly HashSet<string> _ignore;

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
        _identifier = new SpectrumIdentifier(_encoder, decoder.ThresholdScale);
        _minElementProbability = decoder.MinElementProbability;
        _ignore = new HashSet<string>(decoder.IgnoreElements, StringComparer.Ordinal);
    }

    public ModelIdentity Model => _encoder.Identity;

    public IReadOnlyList<Identification> Identify(IReadOnlyList<RawSpectrum> spectra)
    {
        var results = _identifier.Identify(spectra);
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
}
