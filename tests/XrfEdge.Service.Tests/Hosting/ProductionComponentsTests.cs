using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Hosting;

/// <summary>The start-up warnings about the interlock an installer must not miss (8066 fake chip, 8067 no interlock input).</summary>
public sealed class ProductionComponentsTests
{
    [Theory]
    [InlineData(false, null, "fake", new[] { 8067 })] // MCA, GPIO off: nothing can interlock exposure
    [InlineData(true, null, "fake", new[] { 8067 })] // GPIO on but no interlock line
    [InlineData(true, 27, "fake", new[] { 8066 })] // an interlock line on the in-memory chip reads closed forever
    public void CreateInstrumentIo_McaSource_WarnsWhenExposureIsNotInterlocked(bool gpio, int? interlockLine, string chip, int[] expected)
    {
        var settings = FakeComponents.Settings(gpio: gpio);
        settings.Acquisition.Source = AcquisitionSource.Mca;
        settings.Gpio.InterlockLine = interlockLine;
        settings.Gpio.Chip = chip;
        var events = new List<int>();
        using var services = new ServiceCollection()
            .AddSingleton(TimeProvider.System)
            .AddLogging(l => l.AddProvider(new EventIdCollector(events)))
            .BuildServiceProvider();

        using var io = new ProductionComponents().CreateInstrumentIo(settings, services);

        Assert.Equal(expected, events.Where(e => e is 8066 or 8067));
    }

    [Fact]
    public void CreateInstrumentIo_ReplaySource_NoInterlockWarning()
    {
        var settings = FakeComponents.Settings(gpio: false);
        var events = new List<int>();
        using var services = new ServiceCollection()
            .AddSingleton(TimeProvider.System)
            .AddLogging(l => l.AddProvider(new EventIdCollector(events)))
            .BuildServiceProvider();

        using var io = new ProductionComponents().CreateInstrumentIo(settings, services);

        Assert.DoesNotContain(8067, events);
    }

    [Theory]
    [InlineData("secret", null, true)] // plain TCP: the password crosses the network in clear
    [InlineData("secret", "/etc/xrfedge/ca.pem", false)] // TLS
    [InlineData(null, null, false)] // anonymous: nothing to leak
    public void WarnIfPasswordInClearText_PasswordWithoutCaFile_Warns8068(string? password, string? caFile, bool warned)
    {
        var events = new List<int>();
        using var provider = new EventIdCollector(events);
        ProductionComponents.WarnIfPasswordInClearText(new MqttOptions { Password = password, CaFile = caFile }, provider.CreateLogger("test"));
        Assert.Equal(warned, events.Contains(8068));
    }

    private sealed class EventIdCollector(List<int> events) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Collector(events);

        public void Dispose()
        {
        }

        private sealed class Collector(List<int> events) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (events)
                {
                    events.Add(eventId.Id);
                }
            }
        }
    }
}
