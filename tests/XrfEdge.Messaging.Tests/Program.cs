using System.Globalization;
using XrfEdge.Messaging.Adapters;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Messaging.Topics;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// Child-process modes of the test assembly, started by tests that must SIGKILL a publisher:
/// <c>loss-publisher DB PORT COUNT</c> (enqueue COUNT measurements not yet stored, drain, print DRAINED) and
/// <c>availability PORT DB</c> (native + Sparkplug connections with wills; print READY; run until killed);
/// <c>tls-soak HOST PORT DIR TRANSPORTS SECONDS</c> (TRANSPORTS TLS transports with the certificates in DIR, whose
/// handshakes fail, restarted by their supervisors for SECONDS; a native crash ends this child, not the test host;
/// print the number of restarts); <c>hold-outbox DB</c> (open the outbox, print OPEN, hold it until killed).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args.FirstOrDefault() switch
        {
            "loss-publisher" => await LossPublisherAsync(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture)),
            "availability" => await AvailabilityAsync(int.Parse(args[1], CultureInfo.InvariantCulture), args[2]),
            "hold-outbox" => await HoldOutboxAsync(args[1]),
            "tls-soak" => await TlsSoakAsync(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), args[3], int.Parse(args[4], CultureInfo.InvariantCulture), int.Parse(args[5], CultureInfo.InvariantCulture)),
            _ => 2,
        };
    }

    public static MqttTransportOptions ChildTransport(int port, string clientId) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        ClientId = clientId,
        KeepAlive = TimeSpan.FromSeconds(5),
        ReconnectDelayMin = TimeSpan.FromSeconds(1),
        ReconnectDelayMax = TimeSpan.FromSeconds(1),
    };

    /// <summary>A device's transport: <see cref="ChildTransport"/> with the availability will and birth of <paramref name="topics"/>.</summary>
    public static MqttTransportOptions DeviceTransport(int port, string clientId, TopicTree topics)
    {
        var options = ChildTransport(port, clientId);
        DetectionPublisher.ConfigureAvailability(options, topics);
        return options;
    }

    private static async Task<int> LossPublisherAsync(string database, int port, int count)
    {
        var topics = new TopicTree("loss", "dev1");
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = database });
        var options = ChildTransport(port, "loss-publisher");
        DetectionPublisher.ConfigureAvailability(options, topics);
        await using var transport = new MosquittoTransport(options);
        await using var publisher = new DetectionPublisher(transport, outbox, topics, new PublisherOptions { HealthInterval = TimeSpan.FromHours(1) });
        await publisher.StartAsync(CancellationToken.None);
        for (var i = 0; i < count; i++)
        {
            var id = $"L-{i:D5}";
            if (outbox.TryGetResult(id) is null)
            {
                publisher.Enqueue(TestData.Measurement(id, i));
            }
        }

        Console.WriteLine("PRODUCED");
        while (outbox.GetStatistics().Depth > 0 || publisher.InFlight > 0)
        {
            await Task.Delay(50);
        }

        Console.WriteLine("DRAINED");
        await publisher.StopAsync(CancellationToken.None);
        return 0;
    }

    private static async Task<int> HoldOutboxAsync(string database)
    {
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = database });
        Console.WriteLine("OPEN");
        await Task.Delay(Timeout.Infinite);
        return 0;
    }

    private static async Task<int> AvailabilityAsync(int port, string database)
    {
        var topics = new TopicTree("acme", "lwt1");
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = database });
        var options = ChildTransport(port, "lwt1");
        DetectionPublisher.ConfigureAvailability(options, topics);
        await using var transport = new MosquittoTransport(options);
        await using var publisher = new DetectionPublisher(transport, outbox, topics, new PublisherOptions { HealthInterval = TimeSpan.FromHours(1) });
        await using var node = SparkplugNode.Create(ChildTransport(port, "lwt1-spb"), outbox, "acme", "lwt1");
        await publisher.StartAsync(CancellationToken.None);
        await node.StartAsync(CancellationToken.None);
        await transport.WaitConnectedAsync(CancellationToken.None);
        await node.Transport.WaitConnectedAsync(CancellationToken.None);
        Console.WriteLine("READY");
        await Task.Delay(Timeout.Infinite);
        return 0;
    }

    private static async Task<int> TlsSoakAsync(string host, int port, string directory, int transports, int seconds)
    {
        // 7005 = network thread restarted by the supervisor (Log.NetworkThreadRestarted): the path that crashed.
        var restarts = new EventCountingLogger<MosquittoTransport>(7005);
        var running = new List<MosquittoTransport>();
        for (var i = 0; i < transports; i++)
        {
            var options = ChildTransport(port, $"soak-{i}");
            options.Host = host;
            options.Tls = new MqttTlsOptions
            {
                CaFile = Path.Combine(directory, "ca.crt"),
                CertFile = Path.Combine(directory, "client.crt"),
                KeyFile = Path.Combine(directory, "client.key"),
            };
            var transport = new MosquittoTransport(options, restarts);
            transport.Start();
            running.Add(transport);

            // Stagger the transports so their restarts do not all fall on the same supervisor tick.
            await Task.Delay(37);
        }

        await Task.Delay(TimeSpan.FromSeconds(seconds));
        foreach (var transport in running)
        {
            await transport.DisposeAsync();
        }

        Console.WriteLine($"SOAKED {transports} transports, {restarts.Count} restarts");
        return 0;
    }
}
