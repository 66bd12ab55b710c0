namespace XrfEdge.Service.Tests.EndToEnd;

/// <summary>Skipped, with the reason, until the trained model is in models/ (chemistry needs real weights; the test encoder is random).</summary>
public sealed class TrainedModelFactAttribute : FactAttribute
{
    public TrainedModelFactAttribute()
    {
        if (!Fakes.MosquittoBroker.IsInstalled)
        {
            Skip = "mosquitto not installed (scripts/install-deps.sh)";
        }
        else if (!File.Exists(Path))
        {
            Skip = "models/xrf-line-encoder.int8.onnx not present yet (training/README.md builds it); the element check needs the trained model";
        }
    }

    public static string Path => RepositoryRoot.Combine("models", "xrf-line-encoder.int8.onnx");
}
