using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using XrfEdge.Spectra.Catalog;

namespace XrfEdge.Service.Cli;

/// <summary><c>xrfedge catalog [--json]</c>: prints the emission-line catalogue and its hash.</summary>
internal static class CatalogCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON object {hash, lines:[…]} instead of a table" };
        var command = new Command("catalog", "Print the emission-line catalogue (the encoder's 556 outputs) and its hash") { json };
        command.SetAction(parse =>
        {
            Write(LineCatalog.Default, parse.GetValue(json), Console.Out);
            return 0;
        });
        return command;
    }

    internal static void Write(LineCatalog catalog, bool asJson, TextWriter output)
    {
        if (asJson)
        {
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream))
            {
                writer.WriteStartObject();
                writer.WriteString("hash", catalog.Hash);
                writer.WriteNumber("line_count", catalog.Lines.Count);
                writer.WriteNumber("element_count", catalog.Elements.Count);
                writer.WriteStartArray("lines");
                foreach (var line in catalog.Lines)
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("index", line.Index);
                    writer.WriteString("element", line.Element);
                    writer.WriteNumber("z", line.AtomicNumber);
                    writer.WriteString("name", line.Name);
                    writer.WriteString("siegbahn", line.SiegbahnName);
                    writer.WriteNumber("energy_kev", line.EnergyKeV);
                    writer.WriteNumber("rad_rate", line.RadiativeRate);
                    writer.WriteString("shell", line.Shell);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
            return;
        }

        output.WriteLine("index  line        siegbahn    energy_keV  rad_rate  shell");
        foreach (var line in catalog.Lines)
        {
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{line.Index,5}  {line.Name,-10}  {line.SiegbahnName,-10}  {line.EnergyKeV,10:F4}  {line.RadiativeRate,8:F5}  {line.Shell}"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{catalog.Lines.Count} lines, {catalog.Elements.Count} elements"));
        output.WriteLine($"catalogue hash (SHA-256): {catalog.Hash}");
    }
}
