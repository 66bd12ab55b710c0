using System.Globalization;
using System.Text;

namespace XrfEdge.Synthesis.Datasets;

/// <summary>
/// NumPy <c>.npy</c> format version 1.0 headers (numpy.lib.format): magic <c>\x93NUMPY</c>, version 1.0, uint16 LE
/// header length, then an ASCII dict padded with spaces and a final newline so the data starts at a multiple of 64.
/// </summary>
internal static class NpyFormat
{
    public static byte[] Header(string descr, long rows, int? columns)
    {
        var shape = columns is { } c
            ? string.Create(CultureInfo.InvariantCulture, $"({rows}, {c})")
            : string.Create(CultureInfo.InvariantCulture, $"({rows},)");
        var dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        var unpadded = 10 + dict.Length + 1;
        var padding = (64 - (unpadded % 64)) % 64;
        var text = dict + new string(' ', padding) + "\n";
        var header = new byte[10 + text.Length];
        header[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY", header.AsSpan(1));
        header[6] = 1;
        header[7] = 0;
        header[8] = (byte)(text.Length & 0xFF);
        header[9] = (byte)(text.Length >> 8);
        Encoding.ASCII.GetBytes(text, header.AsSpan(10));
        return header;
    }
}
