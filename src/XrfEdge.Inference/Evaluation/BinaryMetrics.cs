using System.Text.Json;

namespace XrfEdge.Inference.Evaluation;

/// <summary>
/// Micro-averaged binary metrics over (spectrum, symbol) pairs, accumulated one pair at a time: confusion counts,
/// sensitivity, specificity, precision, F1, accuracy and the Pearson correlation between predicted probability and
/// 0/1 truth (spectra-jsonl.md, "Metrics"). A ratio with a zero denominator is NaN (written as JSON null).
/// </summary>
public sealed class BinaryMetrics
{
    private double _sumP;
    private double _sumPT;
    private double _sumPP;

    /// <summary>True positives.</summary>
    public long TruePositives { get; private set; }

    /// <summary>False positives.</summary>
    public long FalsePositives { get; private set; }

    /// <summary>False negatives.</summary>
    public long FalseNegatives { get; private set; }

    /// <summary>True negatives.</summary>
    public long TrueNegatives { get; private set; }

    /// <summary>Pairs scored.</summary>
    public long Pairs => TruePositives + FalsePositives + FalseNegatives + TrueNegatives;

    /// <summary>TP / (TP + FN), the recall.</summary>
    public double Sensitivity => Ratio(TruePositives, TruePositives + FalseNegatives);

    /// <summary>TN / (TN + FP).</summary>
    public double Specificity => Ratio(TrueNegatives, TrueNegatives + FalsePositives);

    /// <summary>TP / (TP + FP).</summary>
    public double Precision => Ratio(TruePositives, TruePositives + FalsePositives);

    /// <summary>2TP / (2TP + FP + FN).</summary>
    public double F1 => Ratio(2 * TruePositives, (2 * TruePositives) + FalsePositives + FalseNegatives);

    /// <summary>(TP + TN) / pairs.</summary>
    public double Accuracy => Ratio(TruePositives + TrueNegatives, Pairs);

    /// <summary>Pearson correlation of the predicted probabilities with the 0/1 truth over all pairs (NaN if either is constant).</summary>
    public double Pearson
    {
        get
        {
            double n = Pairs;
            if (n < 2)
            {
                return double.NaN;
            }

            double sumT = TruePositives + FalseNegatives;
            var covariance = _sumPT - (_sumP * sumT / n);
            var varianceP = _sumPP - (_sumP * _sumP / n);
            var varianceT = sumT - (sumT * sumT / n);
            return varianceP <= 0 || varianceT <= 0 ? double.NaN : covariance / Math.Sqrt(varianceP * varianceT);
        }
    }

    /// <summary>Adds one pair.</summary>
    /// <param name="actual">Whether the symbol is truly present.</param>
    /// <param name="predicted">Whether the identifier reported it.</param>
    /// <param name="probability">The identifier's probability for it, 0–1.</param>
    public void Add(bool actual, bool predicted, double probability)
    {
        switch (actual, predicted)
        {
            case (true, true):
                TruePositives++;
                break;
            case (false, true):
                FalsePositives++;
                break;
            case (true, false):
                FalseNegatives++;
                break;
            default:
                TrueNegatives++;
                break;
        }

        var t = actual ? 1.0 : 0.0;
        _sumP += probability;
        _sumPT += probability * t;
        _sumPP += probability * probability;
    }

    /// <summary>Writes the metrics as a JSON object (snake_case; NaN as null).</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("pairs", Pairs);
        writer.WriteNumber("tp", TruePositives);
        writer.WriteNumber("fp", FalsePositives);
        writer.WriteNumber("fn", FalseNegatives);
        writer.WriteNumber("tn", TrueNegatives);
        WriteNumber(writer, "sensitivity", Sensitivity);
        WriteNumber(writer, "specificity", Specificity);
        WriteNumber(writer, "precision", Precision);
        WriteNumber(writer, "f1", F1);
        WriteNumber(writer, "accuracy", Accuracy);
        WriteNumber(writer, "pearson", Pearson);
        writer.WriteEndObject();
    }

    internal static void WriteNumber(Utf8JsonWriter writer, string name, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumber(name, Math.Round(value, 6));
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static double Ratio(long numerator, long denominator) => denominator == 0 ? double.NaN : (double)numerator / denominator;
}
