using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using XrfEdge.Devices.Formats;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Bench;

/// <summary>
/// Reading one 4096-channel spectrum file from memory (parse + validate) and rebinning it to the model grid, per format.
/// The spectrum has the NIST Bruker layout (0.009999 keV/channel, −0.9553045 keV offset) and Poisson-like counts up to
/// 5000 per channel; the files are produced by the project's writers (.mca, .jsonl) or in the format's usual layout
/// (.msa: 4 values per line as Bruker writes; .spe: one count per line as Maestro writes; .csv: channel,counts).
/// </summary>
[MemoryDiagnoser]
public class SpectrumFileBenchmarks
{
    private readonly Dictionary<string, byte[]> _files = [];
    private readonly double[] _target = new double[ModelGrid.BinCount];

    [Params("mca", "msa", "spe", "csv", "jsonl")]
    public string Format { get; set; } = "mca";

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var counts = Enumerable.Range(0, 4096).Select(_ => (long)random.Next(0, 5000)).ToArray();
        var calibration = new EnergyCalibration(-0.9553045, 0.009999);
        var spectrum = new RawSpectrum { Id = "bench", Counts = counts, Calibration = calibration, LiveTime = TimeSpan.FromSeconds(120) };

        using (var mca = new StringWriter(CultureInfo.InvariantCulture))
        {
            AmptekMcaWriter.Write(mca, spectrum);
            _files["mca"] = Encoding.Latin1.GetBytes(mca.ToString());
        }

        _files["jsonl"] = Encoding.UTF8.GetBytes(SpectrumJsonl.ToJsonLine(new LabelledSpectrum(spectrum)) + "\n");

        var msa = new StringBuilder();
        msa.Append("#FORMAT      : EMSA/MAS Spectral Data File\n#VERSION     : 1.0\n#NPOINTS     : 4096.0\n#XUNITS      : keV\n")
            .Append("#DATATYPE    : Y\n#XPERCHAN    : 0.0099990\n#OFFSET      : -0.9553045\n#LIVETIME  -s: 120.0\n#SPECTRUM    :\n");
        for (var channel = 0; channel < counts.Length; channel += 4)
        {
            msa.AppendJoin(',', counts.Skip(channel).Take(4).Select(c => c.ToString("F1", CultureInfo.InvariantCulture).PadLeft(12))).Append(",\n");
        }

        msa.Append("#ENDOFDATA   :\n");
        _files["msa"] = Encoding.ASCII.GetBytes(msa.ToString());

        var spe = new StringBuilder("$SPEC_ID:\nbench\n$MEAS_TIM:\n120 125\n$DATA:\n0 4095\n");
        foreach (var c in counts)
        {
            spe.Append(c.ToString(CultureInfo.InvariantCulture).PadLeft(8)).Append('\n');
        }

        spe.Append("$MCA_CAL:\n2\n-9.553045E-001 9.999000E-003 keV\n");
        _files["spe"] = Encoding.ASCII.GetBytes(spe.ToString());

        _files["csv"] = Encoding.ASCII.GetBytes("energy_kev,counts\n" + string.Join('\n', counts.Select((c, i) =>
            string.Create(CultureInfo.InvariantCulture, $"{calibration.EnergyKeV(i):F6},{c}"))));
    }

    /// <summary>Parse the file and rebin its spectrum: what <c>rebin</c>/<c>identify</c> do per file before inference.</summary>
    [Benchmark]
    public double ParseAndRebin()
    {
        using var stream = new MemoryStream(_files[Format], writable: false);
        var result = SpectrumFileReader.Read(stream, "bench." + Format).Single();
        var spectrum = result.Spectrum?.Spectrum ?? throw new InvalidOperationException(result.Error);
        return Rebinner.Rebin(spectrum.Counts, spectrum.Calibration, _target);
    }
}
