using XrfEdge.Spectra;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Service.Pipeline;

/// <summary>Calibrated spectra in, identifications out: rebin to the model grid, encode (batched), decode.</summary>
internal interface ISpectrumAnalyzer : IDisposable
{
    /// <summary>The loaded model (name, version, SHA-256, precision), published with every result; null while none is loaded (<see cref="ModelSlot"/>).</summary>
    ModelIdentity? Model { get; }

    /// <summary>Identifies a batch; result i belongs to spectrum i.</summary>
    IReadOnlyList<Identification> Identify(IReadOnlyList<RawSpectrum> spectra);
}
