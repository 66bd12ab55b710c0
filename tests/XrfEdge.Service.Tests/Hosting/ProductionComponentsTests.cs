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
    [InlineData(AcquisitionSource.Mca, false, null, new[] { 8067 })] // MCA, GPIO off: nothing can interlock exposure
    [InlineData(AcquisitionSource.Mca, true, null, new[] { 8067 })] // GPIO on but no interlock line
    [InlineData(AcquisitionSource.Mca, true, 27, new[] { 8066 })] // an interlock line on the in-memory chip reads closed forever
    [InlineData(AcquisitionSource.Replay, false, null, new int[0])] // no X-ray source: nothing to interlock
    public void CreateInstrumentIo_WarnsWhenAnXraySourceIsNotInterlocked(AcquisitionSource source, bool gpio, int? interlockLine, int[] expected)
    {
        var settings = FakeComponents.Settings(gpio: gpio);
        settings.Acquisition.Source = source;
        settings.Gpio.InterlockLine = interlockLine;
        settings.Gpio.Chip = "fake";
        var events = new List<int>();
        using var services = new ServiceCollection()
            .AddSingleton(TimeProvider.System)
            .AddLogging(l => l.AddProvider(new EventIdCollector(events)))
            .BuildServiceProvider();

        using var io = new ProductionComponents().CreateInstrumentIo(settings, services);

        Assert.Equal(expected, events.Where(e => e is 8066 or 8067));
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
