using System.Text;
using XrfEdge.Devices.Formats;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Devices.Tests.Formats;

public sealed class SpectrumFileReaderTests
{
    [Theory]
    [InlineData("a.mca", "<<PMCA SPECTRUM>>\r\n", SpectrumFileFormat.AmptekMca)]
    [InlineData("a.spe", "$SPEC_ID:\r\n", SpectrumFileFormat.Spe)]
    [InlineData("a.MSA", "#FORMAT : EMSA/MAS\n", SpectrumFileFormat.Msa)]
    [InlineData("a.emsa", "#FORMAT : EMSA/MAS\n", SpectrumFileFormat.Msa)]
    [InlineData("a.csv", "channel,counts\n", SpectrumFileFormat.Csv)]
    [InlineData("a.tsv", "1\t2\n", SpectrumFileFormat.Csv)]
    [InlineData("a.jsonl", "{\"id\":1}\n", SpectrumFileFormat.Jsonl)]
    [InlineData("a.ndjson", "{\"id\":1}\n", SpectrumFileFormat.Jsonl)]
    // Content signatures win over a misleading or missing extension.
    [InlineData("export.txt", "#FORMAT      : EMSA/MAS Spectral Data File\n", SpectrumFileFormat.Msa)]
    [InlineData("export.csv", "<<PMCA SPECTRUM>>\n", SpectrumFileFormat.AmptekMca)]
    [InlineData("noext", "\uFEFF$SPEC_ID:\n", SpectrumFileFormat.Spe)]
    [InlineData("noext", "{\"id\":\"x\"}\n", SpectrumFileFormat.Jsonl)]
    [InlineData("noext", "12\n13\n", SpectrumFileFormat.Csv)]
    public void DetectFormat_ExtensionAndContent(string name, string head, SpectrumFileFormat expected)
    {
        Assert.Equal(expected, SpectrumFileReader.DetectFormat(name, head));
    }

    [Fact]
    public void DetectFormat_NothingRecognisable_Null()
    {
        Assert.Null(SpectrumFileReader.DetectFormat("blob", "PK\u0003\u0004"));
    }

    [Fact]
    public void ReadAll_MissingFile_OneErrorNamingThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), $"xrfedge-missing-{Guid.NewGuid():N}.mca");

        var result = Assert.Single(SpectrumFileReader.ReadAll(path));

        Assert.StartsWith(path + ": cannot open file", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadAll_Directory_OneError()
    {
        var result = Assert.Single(SpectrumFileReader.ReadAll(Path.GetTempPath()));

        Assert.Contains("is a directory", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadAll_Jsonl_ContinuesAfterTheBadLine()
    {
        var results = SpectrumFileReader.ReadAll(TestFiles.Fixture("two-good-one-bad.jsonl")).ToList();

        Assert.Equal(["j-1", "j-2", "j-3"], results.Select(r => r.Id));
        Assert.Equal([true, false, true], results.Select(r => r.IsSuccess));
        Assert.Equal(["Fe"], results[0].Spectrum!.Elements!);
        Assert.Equal("Rh", results[0].Spectrum!.Spectrum.Excitation!.Anode);
    }

    [Fact]
    public void Read_NonSeekableStreamWithForcedFormat_Reads()
    {
        var text = "7\n" + string.Join('\n', Enumerable.Repeat("7", 63)) + "\n";
        using var stream = new NonSeekableStream(Encoding.ASCII.GetBytes(text));
        var options = new SpectrumReadOptions { Format = SpectrumFileFormat.Csv, FallbackCalibration = new EnergyCalibration(0, 0.1) };

        var result = Assert.Single(SpectrumFileReader.Read(stream, "stdin", options));

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(64 * 7, result.Spectrum!.Spectrum.TotalCounts);
    }

    [Fact]
    public void ReadAll_WhatSpectrumJsonlWrites_ReadsBack()
    {
        // The synth verb writes .jsonl through SpectrumJsonl; the facade must read exactly that.
        var path = Path.Combine(Path.GetTempPath(), $"xrfedge-{Guid.NewGuid():N}.jsonl");
        try
        {
            var raw = new XrfEdge.Spectra.RawSpectrum { Id = "synth-0", Counts = Enumerable.Range(0, 300).Select(c => (long)c).ToArray(), Calibration = new EnergyCalibration(0.05, 0.1) };
            SpectrumJsonl.WriteFile(path, [new LabelledSpectrum(raw) { Elements = ["Cu"], ElementsInSample = ["Cu", "Zn"] }]);

            var result = Assert.Single(SpectrumFileReader.ReadAll(path));

            Assert.True(result.IsSuccess, result.Error);
            Assert.Equal(raw.Counts, result.Spectrum!.Spectrum.Counts);
            Assert.Equal(["Cu", "Zn"], result.Spectrum.ElementsInSample!);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
