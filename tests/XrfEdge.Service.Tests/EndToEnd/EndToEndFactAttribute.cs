using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.EndToEnd;

/// <summary>Skipped, with the reason, where mosquitto or its clients are not installed (scripts/install-deps.sh installs them).</summary>
public sealed class EndToEndFactAttribute : FactAttribute
{
    public EndToEndFactAttribute()
    {
        if (!MosquittoBroker.IsInstalled)
        {
            Skip = "mosquitto / mosquitto_sub / mosquitto_pub not installed (scripts/install-deps.sh)";
        }
    }
}
