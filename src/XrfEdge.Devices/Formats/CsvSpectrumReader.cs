using System.Text;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Devices.Formats;

/// <summary>
/// Reads a spectrum from delimited text (<c>.csv</c>, <c>.tsv</c>, <c>.txt</c>): one row per channel, columns
/// separated by tab, comma, semicolon or spaces (sniffed from the first line, in that order of preference, unless that line
/// is Excel's <c>sep=;</c>, which declares it); lines starting with <c>#</c> are comments; a field in double quotes is read
/// without them and may hold the delimiter (RFC 4180). With a delimiter character an empty field is a field (<c>0,,5</c> is
/// three columns), and an empty channel, energy or count is an error naming its column; empty fields at the end of a row
/// (a trailing delimiter) may be left out. With spaces a run of them is one delimiter. Layouts:
/// <list type="bullet">
/// <item><c>counts</c> — one count per row; needs a calibration from the options.</item>
/// <item><c>channel,counts</c> — consecutive channel numbers; needs a calibration from the options, which refers to those channel numbers.</item>
/// <item><c>energy_kev,counts</c> (or <c>energy_ev</c>) — the energy of each channel's <em>centre</em>, or of its lower edge
/// under SpecUtils' own header <c>Energy, Data</c> or a name that says so ("Lower edge (keV)", see <c>HoldsLowerEdges</c>); the calibration is
/// fitted to it (linear, or quadratic when a line misses a row by more than 1 % of a channel) and every row must lie within
/// 1 % of a channel of the fit, plus the rounding of the energies as written (see <c>FitEnergies</c>).</item>
/// <item><c>channel,energy_kev,counts</c> — as the energy layout; the channel column must be consecutive.</item>
/// </list>
/// A header row is recognised when its first field is not a number; column names are matched case-insensitively
/// (<c>channel|chan|ch</c>, <c>energy_kev|energy (kev)|energy[kev]|kev|energy</c>, <c>energy_ev|ev</c>,
/// <c>counts|count|intensity|y</c>); any other name is read by its words (see <c>ByWords</c>): an energy unit or "energy"
/// with nothing but filler beside it makes an energy column, channel words alone a channel column, so "Energy/keV" and
/// "Channel No." are not ignored while "FWHM (eV)" and "Counts/keV" are. Without a header, two columns are <c>channel,counts</c> when the first column
/// holds consecutive integers and <c>energy_kev,counts</c> otherwise. There is no CSV standard; these are the layouts
/// sandialabs/SpecUtils <c>SpecFile_csv.cpp</c> recognises (../shared/reference/mca-and-files.md §2.5).
/// The last data row must end with a line break, or be followed by a comment line, or end after its last field (a trailing
/// delimiter or spaces, a closed quote): CSV has no end marker, so that is the only trace of a copy cut inside its last
/// count. A copy cut between rows is a shorter, whole-looking table and cannot be told from a complete file.
/// </summary>
public static class CsvSpectrumReader
{
    // A row may miss the fitted calibration by at most this fraction of a channel width (plus the energies' rounding).
    private const double FitToleranceChannels = 0.01;

    // Most columns a row may have. A spectrum table uses at most three (channel, energy, counts) and exports add a few
    // more; each field is kept as a string until the file is read, so a 60-MB file of one-character fields on wide rows
    // cost about 1 GB before the row width was looked at.
    private const int MaxColumns = 64;

    // Words that may stand beside an energy unit or "energy" in the name of the channel-energy column ("Energy in keV",
    // "Channel energy (keV)", "Bin centre (keV)", "X (keV)"); any other word names something else, such as "FWHM (eV)".
    private static readonly HashSet<string> EnergyNameWords =
        new(["ENERGY", "E", "X", "IN", "OF", "CHANNEL", "BIN", "CENTRE", "CENTER", "MID", "MIDPOINT", "PHOTON"], StringComparer.Ordinal);

    // Words that say an energy column holds each channel's lower edge ("Lower edge (keV)", "E low (keV)", "Bin start (keV)").
    // "Edge" alone is not one of them: "Bin edge (keV)" may be either edge, and stays ignored as before.
    private static readonly HashSet<string> LowerEdgeWords = new(["LOWER", "LOW", "START", "LEFT"], StringComparer.Ordinal);

    // Words that may make up the name of the channel-number column ("Channel No.", "MCA channel #", "Chan Nr").
    private static readonly HashSet<string> ChannelNameWords =
        new(["CHANNEL", "CHANNELS", "CHAN", "CH", "CHNL", "NO", "NR", "NUM", "NUMBER", "INDEX", "MCA"], StringComparer.Ordinal);

    private enum Column
    {
        Ignore,
        Channel,
        EnergyKeV,
        EnergyEV,
        EnergyMeV,
        Counts,
    }

    /// <summary>Reads the one spectrum of a delimited text file; never throws for bad content.</summary>
    /// <param name="reader">The text.</param>
    /// <param name="source">File name for ids and messages.</param>
    /// <param name="options">Calibration for layouts without energies.</param>
    public static SpectrumReadResult Read(TextReader reader, string source, SpectrumReadOptions? options = null)
        => FormatParsing.ReadSingle(reader, source, options, Parse);

    private static RawSpectrum Parse(LineCursor cursor, SpectrumReadOptions options)
    {
        var metadata = FormatParsing.SourceMetadata(cursor.Source, SpectrumFileFormat.Csv);
        Column[]? columns = null;
        var rows = new List<(string[] Fields, int Count, int Line)>(4096);
        char[]? separators = null;
        string[]? headerFields = null;
        // Whether the last data row ran to the end of the file without a line break, and whether it ended inside a field.
        var lastRowUnterminated = false;
        var lastRowEndsInField = false;
        while (cursor.Next() is { } raw)
        {
            // A comment or blank line after the last row shows that row was written whole; only the last data row counts.
            lastRowUnterminated = false;
            lastRowEndsInField = false;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (separators is null && line.StartsWith("sep=", StringComparison.OrdinalIgnoreCase))
            {
                separators = [DeclaredSeparator(cursor, raw)];
                metadata["csv.sep"] = separators[0] == '\t' ? "\\t" : separators[0].ToString();
                continue;
            }

            separators ??= Separators(line);

            // Tabs at either end of a tab-separated row are empty fields ("\t0.62\t3" has no channel, "0.62\t\t" no count),
            // not white space to trim.
            var row = separators is ['\t'] ? TrimAllButTabs(raw) : line;
            var fieldCount = CountFields(row, separators);
            if (fieldCount > MaxColumns)
            {
                throw cursor.Error(FormatParsing.Invariant($"row has {fieldCount} columns; a spectrum table has at most {MaxColumns} (is this a spectrum written across one row?)"));
            }

            var fields = Fields(row, separators, out var count);
            if (fields.Length == 0)
            {
                continue;
            }

            // The first field that holds something decides: pandas names its index column "" (",counts"), and a data row
            // whose first field is empty (",5") is a row with a missing value, not a header.
            var first = fields.FirstOrDefault(f => f.Length > 0) ?? string.Empty;
            if (columns is null && rows.Count == 0 && FormatParsing.TryNumber(first) is null)
            {
                if (FormatParsing.DecimalCommaHint(first).Length > 0)
                {
                    throw cursor.Error($"the first row starts with \"{FormatParsing.Shorten(first)}\"{FormatParsing.DecimalCommaHint(first)}");
                }

                columns = Header(cursor, fields);
                headerFields = fields;
                metadata["csv.header"] = line;
                continue;
            }

            rows.Add((fields, count, cursor.LineNumber));
            lastRowUnterminated = !cursor.LastLineTerminated;
            lastRowEndsInField = lastRowUnterminated && !EndsAfterItsLastField(raw, separators);
            FormatParsing.CheckChannelsSoFar(cursor, rows.Count);
        }

        if (rows.Count == 0)
        {
            throw cursor.Error("no channels: the file ends here without data rows");
        }

        var width = columns?.Length ?? rows[0].Fields.Length;
        columns ??= Guess(cursor, rows, width);

        FormatParsing.CheckChannelCount(cursor, rows[0].Line, rows.Count);
        var countsColumn = Array.IndexOf(columns, Column.Counts);
        var channelColumn = Array.IndexOf(columns, Column.Channel);
        var energyColumn = Array.FindIndex(columns, c => c is Column.EnergyKeV or Column.EnergyEV or Column.EnergyMeV);
        var keVPerUnit = energyColumn < 0 ? 1.0 : columns[energyColumn] switch
        {
            Column.EnergyEV => 0.001,
            Column.EnergyMeV => 1000.0,
            _ => 1.0,
        };

        var counts = new long[rows.Count];
        var energies = energyColumn >= 0 ? new double[rows.Count] : null;
        var energyRoundingKeV = energies is null ? null : new double[rows.Count];   // half a unit in each energy's last digit
        var firstChannel = 0;
        var clamp = options.NegativeCounts == NegativeCountHandling.ClampToZero;
        for (var i = 0; i < rows.Count; i++)
        {
            var (fields, count, line) = rows[i];
            if (i == rows.Count - 1 && lastRowUnterminated && (fields.Length < width || lastRowEndsInField))
            {
                throw LastRowCutShort(cursor, line, fields.Length, width);
            }

            // A row may end in empty fields (Excel's trailing delimiter, "0.62,,"): they count toward its width, but a row
            // with fewer delimiters than the columns, or more fields that hold something, is not the table's shape.
            if (fields.Length > width || count < width)
            {
                var columnsInRow = fields.Length > width ? fields.Length : count;
                throw cursor.Error(line, headerFields is not null && i == 0
                    ? FormatParsing.Invariant($"the header names {width} columns but the first row has {columnsInRow}")
                    : FormatParsing.Invariant($"row has {columnsInRow} columns, the first row has {width}"));
            }

            if (fields.Length < width)
            {
                fields = [.. fields, .. Enumerable.Repeat(string.Empty, width - fields.Length)];
            }

            if (channelColumn >= 0)
            {
                var channel = FormatParsing.Number(cursor.At(line), Needed(cursor, line, fields, channelColumn, "channel", headerFields), "channel");
                if (i == 0)
                {
                    if (channel < 0 || channel != Math.Floor(channel) || channel > int.MaxValue - SpectrumJsonl.MaxChannels)
                    {
                        throw cursor.Error(line, FormatParsing.Invariant($"first channel number {fields[channelColumn]} is not a non-negative whole number"));
                    }

                    firstChannel = (int)channel;
                }

                if (channel != firstChannel + i)
                {
                    throw cursor.Error(line, FormatParsing.Invariant($"channel {fields[channelColumn]} breaks the sequence; expected {firstChannel + i} (channels must be consecutive)"));
                }
            }

            if (energies is not null)
            {
                var energy = Needed(cursor, line, fields, energyColumn, "energy", headerFields);
                energies[i] = FormatParsing.Number(cursor.At(line), energy, "energy") * keVPerUnit;
                energyRoundingKeV![i] = FormatParsing.HalfLastDigit(energy) * keVPerUnit;
            }

            counts[i] = FormatParsing.Count(cursor.At(line), Needed(cursor, line, fields, countsColumn, "counts", headerFields), i, clamp);
        }

        if (clamp)
        {
            FormatParsing.ClampNegatives(counts, metadata);
        }

        EnergyCalibration? fromFile = null;
        if (energies is not null)
        {
            var lowerEdges = headerFields is not null && HoldsLowerEdges(headerFields, energyColumn);
            metadata["csv.energy_column"] = lowerEdges ? "lower edges" : "centres";
            fromFile = FitEnergies(cursor, energies, rows, lowerEdges ? -0.5 : 0.0, energyRoundingKeV!);
            firstChannel = 0;
        }

        var calibration = FormatParsing.ResolveCalibration(cursor, fromFile, rows[0].Line, options, counts.Length, firstChannel);
        return new RawSpectrum
        {
            Id = FormatParsing.IdFromSource(cursor.Source),
            Counts = counts,
            Calibration = calibration,
            Metadata = metadata,
        };
    }

    /// <summary>
    /// The error for a last row that ran to the end of the file without a line break. CSV has no end marker and declares no
    /// row count, so a copy cut inside its last count ("1234" → "12") still has every column and reads as a spectrum with a
    /// wrong last channel; the missing line break is the only trace. Spreadsheets, Python's csv, numpy and pandas end
    /// every row with one, and the .mca/.spe/.msa readers make the same demand where their end marker is missing.
    /// </summary>
    private static SpectrumFormatException LastRowCutShort(LineCursor cursor, int line, int fieldCount, int width) =>
        cursor.Error(line, fieldCount < width
            ? FormatParsing.Invariant($"the last row has {fieldCount} of {width} columns and no line break after it: the file was cut short there")
            : "the file ends inside its last row: no line break after it, so it may have been cut short there (if the file is whole, end it with a line break)");

    /// <summary>
    /// Whether a row that ran to the end of the file still shows that its last field was written whole: a delimiter or
    /// white space follows it (Excel's trailing ",", a .txt padded to its columns) or it is a closed quoted field. A copy cut
    /// inside the last count ends on the count's digits, and a cut just after a delimiter leaves the row a column short.
    /// </summary>
    private static bool EndsAfterItsLastField(string raw, char[] separators)
    {
        // An unpaired quote means the cut fell inside a quoted field ('"12' from '"1234"', '"net ' from '"net counts"').
        if (raw.Length == 0 || raw.Count(c => c == '"') % 2 != 0)
        {
            return false;
        }

        var end = raw[^1];
        return char.IsWhiteSpace(end) || Array.IndexOf(separators, end) >= 0 || end == '"';
    }

    /// <summary>
    /// The value of a column the reader needs (channel, energy or counts) in a row. An empty field ("0,,5") is an error
    /// naming its column: the fields used to be split without the empty ones, so the columns after it moved one to the
    /// left and the row was refused for its width, or, when every row had the gap, read as a narrower table.
    /// </summary>
    private static string Needed(LineCursor cursor, int line, string[] fields, int column, string kind, string[]? headerFields)
    {
        if (fields[column].Length > 0)
        {
            return fields[column];
        }

        var name = headerFields is not null ? $", \"{FormatParsing.Shorten(headerFields[column])}\"" : string.Empty;
        throw cursor.Error(line, FormatParsing.Invariant($"{kind} (column {column + 1}{name}) is empty; every row needs one"));
    }

    /// <summary>
    /// The fields of a row, trimmed, up to the last one that holds something; <paramref name="count"/> is the number of
    /// fields with the empty ones after it (Excel's trailing delimiter). With a delimiter character an empty field
    /// ("0,,5") is a field and keeps the columns after it in place; with spaces a run of them is one delimiter, as an
    /// aligned .txt needs. RFC 4180 double quotes are taken off: writers may quote any field (a quoted first row of
    /// numbers was taken for a header), a quoted field may hold the delimiter (Excel writes the cell <c>Energy, keV</c>
    /// as <c>"Energy, keV"</c>, which was split in two), <c>""</c> inside one is a quote, and a quoted empty field is a
    /// field even among spaces. An unclosed quote runs to the end of the row.
    /// </summary>
    private static string[] Fields(string line, char[] separators, out int count)
    {
        var spaces = separators is [' '];
        var fields = new List<string>();
        var field = new StringBuilder();
        var empties = 0;
        var quoted = false;
        var wasQuoted = false;
        var total = 0;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (Array.IndexOf(separators, c) >= 0)
            {
                EndField();
            }
            else if (c == '"' && field.ToString().Trim().Length == 0)
            {
                field.Clear();
                quoted = wasQuoted = true;
            }
            else
            {
                field.Append(c);
            }
        }

        EndField();
        count = total;
        return [.. fields];

        void EndField()
        {
            var text = field.ToString().Trim();
            field.Clear();
            var isField = text.Length > 0 || wasQuoted;
            wasQuoted = false;
            if (!isField && spaces)
            {
                return;
            }

            total++;
            if (!isField)
            {
                // Kept only if a field that holds something follows, so a row of a million trailing delimiters costs nothing.
                empties++;
                return;
            }

            fields.AddRange(Enumerable.Repeat(string.Empty, empties));
            empties = 0;
            fields.Add(text);
        }
    }

    /// <summary>
    /// The fields of <paramref name="line"/> up to the last one that holds something, counted without splitting it (empty
    /// ones before it count; with spaces, a run of them is one delimiter).
    /// </summary>
    private static int CountFields(string line, char[] separators)
    {
        var spaces = separators is [' '];
        var fields = 0;
        var delimiters = 0;
        var inField = false;
        foreach (var c in line)
        {
            var separator = Array.IndexOf(separators, c) >= 0;
            if (separator)
            {
                delimiters++;
            }
            else if (!char.IsWhiteSpace(c))
            {
                if (!inField)
                {
                    fields = spaces ? fields + 1 : delimiters + 1;
                }
            }

            inField = !separator && (inField || !char.IsWhiteSpace(c));
        }

        return fields;
    }

    /// <summary><paramref name="raw"/> without the white space at either end other than tabs.</summary>
    private static string TrimAllButTabs(string raw)
    {
        var start = 0;
        var end = raw.Length;
        while (start < end && raw[start] != '\t' && char.IsWhiteSpace(raw[start]))
        {
            start++;
        }

        while (end > start && raw[end - 1] != '\t' && char.IsWhiteSpace(raw[end - 1]))
        {
            end--;
        }

        return raw[start..end];
    }

    /// <summary>
    /// The delimiter Excel declares on a first line <c>sep=;</c> (or <c>sep=,</c>, <c>sep=</c> and a tab): the file is
    /// split on it whatever the sniffer would take. It was read as a header without a counts column and refused.
    /// </summary>
    private static char DeclaredSeparator(LineCursor cursor, string raw)
    {
        var declared = raw.TrimStart()[4..];
        if (declared.Length != 1)
        {
            declared = declared.Trim();
        }

        return declared.Length == 1 && declared[0] != '"'
            ? declared[0]
            : throw cursor.Error($"\"{FormatParsing.Shorten(raw.Trim())}\" must declare one delimiter character, as Excel's sep=; or sep=, does");
    }

    /// <summary>
    /// The delimiter of the file, sniffed from its first line: tab, else semicolon when the line also holds commas (a
    /// European export, "0,02;5", whose commas are decimal marks), else comma, else semicolon, else spaces.
    /// </summary>
    private static char[] Separators(string line) =>
        line.Contains('\t', StringComparison.Ordinal) ? ['\t']
        : line.Contains(';', StringComparison.Ordinal) && line.Contains(',', StringComparison.Ordinal) ? [';']
        : line.Contains(',', StringComparison.Ordinal) ? [',']
        : line.Contains(';', StringComparison.Ordinal) ? [';']
        : [' '];

    private static Column[] Header(LineCursor cursor, string[] fields)
    {
        var columns = fields.Select(Name).ToArray();
        if (columns.Count(c => c == Column.Counts) != 1)
        {
            throw cursor.Error($"the header \"{FormatParsing.Shorten(string.Join(',', fields))}\" must name exactly one counts column (counts, count, intensity or y)");
        }

        foreach (var (kind, isKind) in (ReadOnlySpan<(string, Func<Column, bool>)>)[
            ("energy", c => c is Column.EnergyKeV or Column.EnergyEV or Column.EnergyMeV),
            ("channel", c => c == Column.Channel)])
        {
            var named = fields.Where((_, i) => isKind(columns[i])).ToArray();
            if (named.Length > 1)
            {
                throw cursor.Error($"the header names more than one {kind} column (\"{FormatParsing.Shorten(string.Join("\", \"", named))}\"); rename the one that is not");
            }
        }

        return columns;
    }

    private static Column Name(string field)
    {
        var upper = field.Trim().Trim('"').ToUpperInvariant();
        var name = upper.Replace(" ", string.Empty, StringComparison.Ordinal);
        return name switch
        {
            "CHANNEL" or "CHAN" or "CH" or "CHANNELS" => Column.Channel,
            "ENERGY_KEV" or "ENERGY(KEV)" or "ENERGY[KEV]" or "KEV" or "ENERGY" or "ENERGYKEV" => Column.EnergyKeV,
            "ENERGY_EV" or "ENERGY(EV)" or "ENERGY[EV]" or "EV" or "ENERGYEV" => Column.EnergyEV,
            "COUNTS" or "COUNT" or "INTENSITY" or "Y" or "DATA" => Column.Counts,
            _ => ByWords(upper),
        };
    }

    /// <summary>
    /// A column named outside the exact list, by its words (<see cref="EnergyUnits.Words"/>). It is the energy column when
    /// besides one energy unit or the word energy it holds only <see cref="EnergyNameWords"/>: "Energy/keV", "E (keV)",
    /// "Energy in keV", "Channel energy (MeV)". "E" alone is not: Mantid's SaveAscii writes X, Y, E with E the error of Y.
    /// It is the channel column when it holds a channel word and
    /// only <see cref="ChannelNameWords"/>: "Channel No.", "Ch #". Ignored, such a column left the file's energies unused
    /// and the fallback was taken silently, or a channel column numbered from 1 shifted every energy by a channel. Any
    /// other word makes the column something else even beside a unit ("FWHM (eV)", "Counts/keV", "Sigma (keV)", "ROI
    /// channel", "Counts per channel"), and it is ignored as before: taken for a second energy or channel column it got the
    /// file refused. Counts columns stay exact: "Counts error" is not the counts.
    /// </summary>
    private static Column ByWords(string name)
    {
        var words = EnergyUnits.Words(name);
        var unitWords = words.Count(w => EnergyUnits.KeVPerUnit(w) is not null);
        var others = words.Where(w => EnergyUnits.KeVPerUnit(w) is null).ToArray();
        var edgeNamed = !others.Contains("EDGE") || others.Any(LowerEdgeWords.Contains);
        if (edgeNamed && others.All(w => EnergyNameWords.Contains(w) || LowerEdgeWords.Contains(w) || w == "EDGE")
            && (unitWords > 0 || others.Contains("ENERGY")))
        {
            return (unitWords > 0 ? EnergyUnits.KeVPerUnitIn(words) : 1.0) switch
            {
                1.0 => Column.EnergyKeV,
                0.001 => Column.EnergyEV,
                1000.0 => Column.EnergyMeV,
                _ => Column.Ignore,
            };
        }

        return words.Any(EnergyUnits.IsChannelWord) && words.All(ChannelNameWords.Contains)
            ? Column.Channel
            : Column.Ignore;
    }

    private static Column[] Guess(LineCursor cursor, List<(string[] Fields, int Count, int Line)> rows, int width)
    {
        switch (width)
        {
            case 1:
                return [Column.Counts];
            case 2:
                // Consecutive integers in the first column are channel numbers; anything else is an energy in keV.
                var first = FormatParsing.TryNumber(rows[0].Fields[0]);
                var consecutive = first is { } f && f == Math.Floor(f) && rows.Select((r, i) => (r, i))
                    .All(p => p.r.Fields.Length == 2 && FormatParsing.TryNumber(p.r.Fields[0]) == f + p.i);
                return consecutive ? [Column.Channel, Column.Counts] : [Column.EnergyKeV, Column.Counts];
            case 3:
                return [Column.Channel, Column.EnergyKeV, Column.Counts];
            default:
                throw cursor.Error(rows[0].Line, FormatParsing.Invariant($"{width} columns without a header; give a header naming the counts column"));
        }
    }

    /// <summary>
    /// Whether the energy column holds each channel's lower edge rather than its centre. SpecUtils (and InterSpec, built
    /// on it) writes <c>Energy, Data</c> with <c>channel_energies()</c>, its lower channel edges, and reads every CSV
    /// energy column back as lower edges (<c>SpecFile.cpp</c> <c>Measurement::write_csv</c>, <c>SpecFile_csv.cpp</c>
    /// <c>set_lower_channel_energy</c>; ../shared/reference/mca-and-files.md §2.5 leaves edge or centre open), so
    /// that exact header means lower edges; so does a name with a lower-edge word ("Lower edge (keV)"). Any other
    /// energy column stays a channel centre, the project's convention: no other writer is known to put edges there.
    /// </summary>
    private static bool HoldsLowerEdges(string[] headerFields, int energyColumn) =>
        (headerFields.Length == 2
            && headerFields[0].Equals("Energy", StringComparison.OrdinalIgnoreCase)
            && headerFields[1].Equals("Data", StringComparison.OrdinalIgnoreCase))
        || EnergyUnits.Words(headerFields[energyColumn]).Any(LowerEdgeWords.Contains);

    /// <summary>
    /// The calibration (energy of channel centres) through the energy column, whose value of row <c>i</c> lies at channel
    /// position <c>i + <paramref name="position"/></c>: 0 for centres, −½ for lower edges. Every row must lie within
    /// <see cref="FitToleranceChannels"/> of the fit, widened by the row's own rounding (<paramref name="roundingKeV"/>:
    /// half a unit in the last digit it was written with) and by the median row's, which the fit's points carry. The
    /// median, not the largest: a writer that strips trailing zeros (C++ streams, %g) writes an exact 10 keV as "10", whose
    /// digits would claim half a keV. Until 2026-11-24 the tolerance was 1 % of a channel alone, and a SpecUtils/InterSpec
    /// export (6 significant figures) was refused wherever that rounding is over half of it: 0.05 eV at 10–100 keV against
    /// a 4.9 eV channel (8,192 channels to 40 keV).
    /// </summary>
    private static EnergyCalibration FitEnergies(LineCursor cursor, double[] energies, List<(string[] Fields, int Count, int Line)> rows, double position, double[] roundingKeV)
    {
        for (var i = 1; i < energies.Length; i++)
        {
            if (energies[i] <= energies[i - 1])
            {
                throw cursor.Error(rows[i].Line, "energies must increase from row to row");
            }
        }

        var n = energies.Length - 1;
        var gain = (energies[n] - energies[0]) / n;
        var linear = new EnergyCalibration(energies[0] - (gain * position), gain);
        var sorted = roundingKeV.Order().ToArray();
        var fitRoundingKeV = sorted[sorted.Length / 2];
        var straight = Worst(linear, energies, position, roundingKeV, fitRoundingKeV);
        if (straight.Miss <= straight.Allowed)
        {
            return linear;
        }

        var points = energies.Select((e, i) => (i + position, e)).ToList();
        var quadratic = FormatParsing.Fit(points, out _);
        var (row, miss, allowed) = quadratic is null ? (0, double.PositiveInfinity, FitToleranceChannels) : Worst(quadratic, energies, position, roundingKeV, fitRoundingKeV);
        if (quadratic is null || !(miss <= allowed))
        {
            var why = allowed > FitToleranceChannels ? $"{FitToleranceChannels} plus the energies' rounding as written" : $"{FitToleranceChannels}";
            throw cursor.Error(rows[row].Line, FormatParsing.Invariant($"the energy column is not a smooth calibration: this row is {miss:G3} channels off the best quadratic (at most {allowed:G3} allowed: {why})"));
        }

        return quadratic;
    }

    /// <summary>The row that misses the fit by most beyond what it is allowed; its miss and allowance, in channels.</summary>
    private static (int Row, double Miss, double Allowed) Worst(EnergyCalibration calibration, double[] energies, double position, double[] roundingKeV, double fitRoundingKeV)
    {
        var worst = (Row: 0, Miss: 0.0, Allowed: FitToleranceChannels);
        var worstExcess = double.NegativeInfinity;
        for (var i = 0; i < energies.Length; i++)
        {
            var width = calibration.UpperEdgeKeV(i) - calibration.LowerEdgeKeV(i);
            var miss = Math.Abs(calibration.EnergyKeV(i + position) - energies[i]) / width;
            var allowed = FitToleranceChannels + ((roundingKeV[i] + fitRoundingKeV) / width);
            if (!(miss - allowed <= worstExcess))
            {
                worst = (i, miss, allowed);
                worstExcess = miss - allowed;
            }
        }

        return worst;
    }
}
