using XrfEdge.Spectra.Physics;

namespace XrfEdge.Spectra.Tests;

public sealed class TubeAnodeTests
{
    [Fact]
    public void Modelled_EqualsTheAnodesOfThePhysicsTables() =>
        Assert.Equal(PhysicsTables.Default.AnodeLines.Select(l => l.Anode).Distinct().Order(StringComparer.Ordinal), TubeAnode.Modelled.Order(StringComparer.Ordinal));

    [Theory]
    [InlineData("Rh")] // catalogue element and modelled anode
    [InlineData("Fe")] // catalogue element
    [InlineData("W")] // modelled anode, no catalogue element
    public void Check_ElementOrModelledAnode_Accepted(string symbol) => Assert.Null(TubeAnode.Check(symbol));

    [Theory]
    [InlineData("Xx", null)]
    [InlineData("RH", "Rh")]
    [InlineData("", null)]
    public void Check_OtherSymbol_SaysWhyAndSuggestsTheCase(string symbol, string? meant)
    {
        var problem = TubeAnode.Check(symbol);

        Assert.NotNull(problem);
        Assert.StartsWith($"'{symbol}' is not an element of the line catalogue", problem, StringComparison.Ordinal);
        Assert.Equal(meant is not null, problem.EndsWith($"did you mean '{meant}'?", StringComparison.Ordinal));
    }
}
