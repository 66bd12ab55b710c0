using XrfEdge.Service.Gpio;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Hosting;

/// <summary>Creates the parts of the pipeline that touch the outside world; the product uses <see cref="ProductionComponents"/>, tests use fakes.</summary>
internal interface IPipelineComponents
{
    ISpectrumSource CreateSource(ServiceSettings settings, IServiceProvider services);

    ISpectrumAnalyzer CreateAnalyzer(ServiceSettings settings, IServiceProvider services);

    IResultPublisher CreatePublisher(ServiceSettings settings, IServiceProvider services);

    IInstrumentIo CreateInstrumentIo(ServiceSettings settings, IServiceProvider services);
}
