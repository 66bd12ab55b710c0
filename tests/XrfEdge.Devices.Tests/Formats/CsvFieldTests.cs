using System.Globalization;
using XrfEdge.Devices.Formats;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;
using static XrfEdge.Devices.Tests.Formats.CsvTestFiles;

namespace XrfEdge.Devices.Tests.Formats;

/// <summary>
/// Third review of the CSV reader (2026-11-24): empty fields (<c>0,,5</c>) must stay in their column, Excel's
/// <c>sep=;</c> first line declares the delimiter.
/// </summary>
public sealed class CsvFieldTests
{
    [Theory]
    [InlineData(",")]
    [InlineData(";")]
    [InlineData("\t")]
    public void Csv_EveryEnergyEmptyUnderAHeader_RefusedNamingLineAndColumn(string delimiter)
    {
        // 'Channel,Energy,Counts' over rows '0,,3': the empty energies vanished, so every row had 2 of the header's 3 columns.
        var text = string.Join(delimiter, "Channel", "Energy", "Counts") + "\n" + Rows(c => string.Join(delimiter, Invariant($"{c}"), string.Empty, Invariant($"{Count(c)}")));

        var result = Fails(text, "empty.csv", "energy (column 2, \"Energy\") is empty");

        Assert.StartsWith("empty.csv line 2:", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(",")]
    [InlineData(";")]
    [InlineData("\t")]
    public void Csv_OneRowWithAnEmptyEnergy_RefusedNamingLineAndColumn(string delimiter)
    {
        // Channel 19 (line 21, under the header) lost its energy, and with it the column the count stands in.
        var text = string.Join(delimiter, "Channel", "Energy (keV)", "Counts") + "\n"
            + Rows(c => string.Join(delimiter, Invariant($"{c}"), c == 19 ? string.Empty : Centre(c), Invariant($"{Count(c)}")));

        var result = Fails(text, "gap.csv", "energy (column 2, \"Energy (keV)\") is empty");

        Assert.StartsWith("gap.csv line 21:", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(",")]
    [InlineData(";")]
    [InlineData("\t")]
    public void Csv_EmptyMiddleFieldInEveryRowWithoutHeader_NotReadAsTwoColumns(string delimiter)
    {
        // '0,,3' on every row was read as the two columns channel,counts; three columns without a header are
        // channel, energy, counts, and the energy is missing.
        var text = Rows(c => string.Join(delimiter, Invariant($"{c}"), string.Empty, Invariant($"{Count(c)}")));

        var result = Fails(text, "middle.csv", "energy (column 2) is empty");

        Assert.StartsWith("middle.csv line 1:", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_TabRowWithAnEmptyFirstField_RefusedNamingColumnOne()
    {
        // '\t0.62\t3': the row was trimmed of its leading tab, so it had 2 of 3 columns and the error named none.
        var text = "Channel\tEnergy (keV)\tCounts\n" + Rows(c => (c == 15 ? string.Empty : Invariant($"{c}")) + "\t" + Centre(c) + Invariant($"\t{Count(c)}"));

        var result = Fails(text, "lead.tsv", "channel (column 1, \"Channel\") is empty");

        Assert.StartsWith("lead.tsv line 17:", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(",")]
    [InlineData(";")]
    [InlineData("\t")]
    public void Csv_EmptyCount_RefusedNamingLineAndColumn(string delimiter)
    {
        // '0.62,,' as the last row: the count is missing, and the trailing delimiters must not hide it (nor may a tab row's
        // trailing tabs be trimmed off as white space).
        var text = string.Join(delimiter, "Energy (keV)", "Counts", "Net") + "\n"
            + Rows(c => c == Channels - 1 ? Centre(c) + delimiter + delimiter : string.Join(delimiter, Centre(c), Invariant($"{Count(c)}"), "1"));

        var result = Fails(text, "nocount.csv", "counts (column 2, \"Counts\") is empty");

        Assert.StartsWith("nocount.csv line 65:", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(",")]
    [InlineData(";")]
    [InlineData("\t")]
    public void Csv_EmptyFieldInAnIgnoredColumn_ReadWithoutShifting(string delimiter)
    {
        // An export whose 'Net counts' column is empty: the counts stay in the third column.
        var text = string.Join(delimiter, "Energy (keV)", "Net counts", "Counts") + "\n"
            + Rows(c => string.Join(delimiter, Centre(c), string.Empty, Invariant($"{Count(c)}")));

        var spectrum = Reads(text, "net.csv");

        Assert.Equal(OffsetKeV, spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal(GainKeV, spectrum.Calibration.GainKeVPerChannel, 9);
        Assert.Equal(Enumerable.Range(0, Channels).Select(Count), spectrum.Counts);
    }

    [Fact]
    public void Csv_PandasIndexHeaderWithAnEmptyName_ReadsTheCountsColumn()
    {
        // pandas DataFrame.to_csv writes its index as a first column with an empty name: ',counts' over '0,3'.
        var text = ",counts\n" + Rows(c => Invariant($"{c},{Count(c)}"));

        var spectrum = Reads(text, "pandas.csv");

        Assert.Equal(Enumerable.Range(0, Channels).Select(Count), spectrum.Counts);
        Assert.Equal(0.1, spectrum.Calibration.GainKeVPerChannel, 12);
    }

    [Theory]
    [InlineData("Energy (keV),Counts,\n", "{0},{1},")]
    [InlineData("Energy (keV),Counts\n", "{0},{1},")]
    [InlineData("Energy (keV),Counts,\n", "{0},{1}")]
    [InlineData("", "{0},{1},")]
    [InlineData("Energy (keV);Counts;;\n", "{0};{1};;")]
    public void Csv_TrailingDelimiters_StillRead(string header, string rowFormat)
    {
        // Excel writes a delimiter after the last field when its used range is one column wider than the data.
        var text = header + Rows(c => string.Format(CultureInfo.InvariantCulture, rowFormat, Centre(c), Count(c)));

        var spectrum = Reads(text, "excel.csv");

        Assert.Equal(OffsetKeV, spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal(Enumerable.Range(0, Channels).Select(Count), spectrum.Counts);
    }

    [Fact]
    public void Csv_RunsOfSpaces_AreOneDelimiter()
    {
        // A .txt aligned with spaces: '  0   0.02      3' is three fields, as it was before empty fields were kept.
        var text = "Channel   keV   Counts\n" + Rows(c => Invariant($"{c,4}   {Centre(c),8}  {Count(c),6}   "));

        var spectrum = Reads(text, "aligned.txt");

        Assert.Equal(OffsetKeV, spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal(Enumerable.Range(0, Channels).Select(Count), spectrum.Counts);
    }

    [Theory]
    [InlineData(";")]
    [InlineData(",")]
    [InlineData("\t")]
    public void Csv_ExcelSepLine_DeclaresTheDelimiter(string delimiter)
    {
        // Excel writes 'sep=;' as the first line to declare the delimiter; it was read as a header without a counts column.
        var text = "sep=" + delimiter + "\n" + "Energy (keV)" + delimiter + "Counts\n" + Rows(c => Centre(c) + delimiter + Invariant($"{Count(c)}"));

        var spectrum = Reads(text, "excel.csv");

        Assert.Equal(OffsetKeV, spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal(GainKeV, spectrum.Calibration.GainKeVPerChannel, 9);
        Assert.Equal(Enumerable.Range(0, Channels).Select(Count), spectrum.Counts);
    }

    [Fact]
    public void Csv_ExcelSepLine_WinsOverTheSniffer()
    {
        // The header 'Energy; keV,Counts' holds ';' and ',', so the sniffer would take ';'; 'sep=,' says it is ','.
        var text = "sep=,\r\nEnergy; keV,Counts\r\n" + Rows(c => Centre(c) + Invariant($",{Count(c)}"));

        var spectrum = Reads(text, "declared.csv");

        Assert.Equal(OffsetKeV, spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal(Enumerable.Range(0, Channels).Select(Count), spectrum.Counts);
    }

    [Fact]
    public void Csv_ExcelSepLineWithoutHeader_ReadsTheRows()
    {
        var text = "sep=;\n" + Rows(c => Invariant($"{c};{Count(c)}"));

        var spectrum = Reads(text, "noheader.csv");

        Assert.Equal(Enumerable.Range(0, Channels).Select(Count), spectrum.Counts);
        Assert.Equal(0.1, spectrum.Calibration.GainKeVPerChannel, 12);
    }

    [Theory]
    [InlineData("sep=\n")]
    [InlineData("sep=;;\n")]
    public void Csv_SepLineDeclaringNoSingleCharacter_RefusedNamingIt(string sepLine)
    {
        var result = Fails(sepLine + Rows(c => Invariant($"{c};{Count(c)}")), "sep.csv", "must declare one delimiter character");

        Assert.StartsWith("sep.csv line 1:", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void DetectFormat_SepLineInATxtFile_IsCsv() =>
        Assert.Equal(SpectrumFileFormat.Csv, SpectrumFileReader.DetectFormat("export.txt", "sep=;\nChannel;Counts\n0;1\n"));
}
