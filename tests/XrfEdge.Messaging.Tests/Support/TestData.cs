using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Topics;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>Deterministic measurement results for publishing tests (values are arbitrary but plausible).</summary>
public static class TestData
{
    /// <summary>The topic tree of fleet <c>acme</c>, device <c>XRF-0042</c>, which the payload tests publish under.</summary>
    public static readonly TopicTree Topics = new("acme", "XRF-0042");

    /// <summary>An outbox stamp (seq 123, stored 2026-03-01 10:01 UTC) for payloads built outside an outbox.</summary>
    public static readonly OutboxStamp Stamp = new(123, Guid.CreateVersion7(new DateTimeOffset(2026, 3, 1, 10, 1, 0, TimeSpan.Zero)), new DateTimeOffset(2026, 3, 1, 10, 1, 0, TimeSpan.Zero));

    /// <summary>A 2048-channel spectrum, 10 eV/channel (a common handheld SDD set-up), Fe-KL3 and Cr-KL3 reported.</summary>
    public static MeasurementResult Measurement(string id, int counts = 7)
    {
        var catalog = LineCatalog.Default;
        catalog.TryGetLine("Fe-KL3", out var fe);
        catalog.TryGetLine("Cr-KL3", out var cr);
        var spectrum = new RawSpectrum
        {
            Id = id,
            Counts = [.. Enumerable.Range(0, 2048).Select(c => (long)((c % 50) + counts))],
            Calibration = new EnergyCalibration(-0.02, 0.01),
            LiveTime = TimeSpan.FromSeconds(28.7),
            RealTime = TimeSpan.FromSeconds(30),
            Excitation = new Excitation("Rh", 40, 25),
        };
        var identification = new Identification
        {
            SpectrumId = id,
            Elements = [new ElementDetection("Fe", 26, 0.999f, ["Fe-KL3"]), new ElementDetection("Cr", 24, 0.98f, ["Cr-KL3"])],
            Lines = [new LineDetection(fe!, 0.999f), new LineDetection(cr!, 0.98f)],
            LineProbabilities = new float[catalog.Lines.Count],
            Model = new ModelIdentity("xrf-line-encoder", "1.0.0", new string('a', 64), "int8"),
            Counts = new InputCounts(1.2e8, 1217, 2.76e7, CountRangeStatus.Above, 0.23),
            Coverage = new EnergyCoverage(20.455, 20, CoverageStatus.Partial), // 2048 × 10 eV from -0.02 keV
            NotAssessed = ["Ar", "Rh"],
        };
        return new MeasurementResult
        {
            MeasurementId = id,
            Spectrum = spectrum,
            Identification = identification,
            AcquisitionStart = new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero),
            AcquisitionEnd = new DateTimeOffset(2026, 3, 1, 10, 0, 30, TimeSpan.Zero),
            Preset = TimeSpan.FromSeconds(30),
            Mode = "alloy",
            SampleId = "S-77",
        };
    }
}
