namespace XrfEdge.Devices.Formats;

/// <summary>The spectrum file formats <see cref="SpectrumFileReader"/> understands (docs/spectrum-files.md).</summary>
public enum SpectrumFileFormat
{
    /// <summary>Amptek PMCA/DppMCA ASCII <c>.mca</c>: <c>&lt;&lt;PMCA SPECTRUM&gt;&gt;</c>, <c>&lt;&lt;CALIBRATION&gt;&gt;</c> points, <c>&lt;&lt;DATA&gt;&gt;</c>.</summary>
    AmptekMca,

    /// <summary>ORTEC Maestro / IAEA ASCII <c>.spe</c>: <c>$DATA:</c>, <c>$MCA_CAL:</c> or <c>$ENER_FIT:</c>, <c>$MEAS_TIM:</c>.</summary>
    Spe,

    /// <summary>EMSA/MAS (ISO 22029) <c>.msa</c>/<c>.emsa</c>: <c>#XPERCHAN</c>, <c>#OFFSET</c>, <c>#SPECTRUM</c>, Y or XY data.</summary>
    Msa,

    /// <summary>Delimited text <c>.csv</c>/<c>.tsv</c>: counts, <c>channel,counts</c> or <c>energy_kev,counts</c>, header optional.</summary>
    Csv,

    /// <summary>The project's <c>.jsonl</c> interchange format, one labelled spectrum per line.</summary>
    Jsonl,
}
