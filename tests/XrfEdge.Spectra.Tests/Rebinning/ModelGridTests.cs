using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Spectra.Tests.Rebinning;

public sealed class ModelGridTests
{
    [Fact]
    public void BinOf_EnergiesAtAndJustBelowEachGridEdge_SameBinAsTheRebinnerUses()
    {
        // Bins are [BinLowerKeV(k), BinLowerKeV(k + 1)) with the edges as computed (k·0.1 in double), the edges Rebinner
        // compares with: an energy on edge k is in bin k, one ulp below it in bin k − 1.
        for (var bin = 1; bin < ModelGrid.BinCount; bin++)
        {
            var edge = ModelGrid.BinLowerKeV(bin);
            Assert.True(ModelGrid.BinOf(edge) == bin, $"BinOf({edge:R}) = {ModelGrid.BinOf(edge)}, expected {bin}");
            var below = Math.BitDecrement(edge);
            Assert.True(ModelGrid.BinOf(below) == bin - 1, $"BinOf({below:R}) = {ModelGrid.BinOf(below)}, expected {bin - 1}");
        }
    }

    [Theory]
    [InlineData(-1e-300)]
    [InlineData(30.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void BinOf_OutsideTheGrid_IsMinusOne(double energyKeV) => Assert.Equal(-1, ModelGrid.BinOf(energyKeV));

    [Fact]
    public void BinOf_GridEnds_FirstAndLastBin()
    {
        Assert.Equal(0, ModelGrid.BinOf(0));
        Assert.Equal(ModelGrid.BinCount - 1, ModelGrid.BinOf(Math.BitDecrement(ModelGrid.UpperKeV)));
    }
}
