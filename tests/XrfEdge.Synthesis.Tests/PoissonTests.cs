using XrfEdge.Synthesis.Sampling;

namespace XrfEdge.Synthesis.Tests;

public sealed class PoissonTests
{
    [Theory]
    [InlineData(0.05)]
    [InlineData(3.0)]   // inversion branch (λ < 12)
    [InlineData(40.0)]  // PTRS branch
    [InlineData(2500.0)]
    [InlineData(3e5)]   // normal branch
    public void Sample_ManyDraws_MeanAndVarianceEqualLambda(double lambda)
    {
        // A Poisson variable has mean = variance = λ. With n = 40 000 draws the standard error of the mean is
        // sqrt(λ/n) and of the variance about λ·sqrt(2/n) (+ the fourth-cumulant term λ/n): 5 standard errors.
        const int n = 40_000;
        var rng = new Rng(42, (long)lambda);
        double sum = 0, sum2 = 0;
        for (var i = 0; i < n; i++)
        {
            double k = Poisson.Sample(ref rng, lambda);
            sum += k;
            sum2 += k * k;
        }

        var mean = sum / n;
        var variance = (sum2 / n) - (mean * mean);
        Assert.InRange(mean, lambda - (5 * Math.Sqrt(lambda / n)), lambda + (5 * Math.Sqrt(lambda / n)));
        var varianceError = 5 * Math.Sqrt((2 * lambda * lambda / n) + (lambda / n));
        Assert.InRange(variance, lambda - varianceError, lambda + varianceError);
    }

    [Fact]
    public void Sample_Lambda3_FrequenciesFollowPoissonPmf()
    {
        // Chi-square over k = 0…9 (+ tail) against e^(−3)·3^k/k!; 10 degrees of freedom, p = 0.001 critical value 29.6.
        const int n = 50_000;
        var rng = new Rng(7, 0);
        var observed = new double[11];
        for (var i = 0; i < n; i++)
        {
            observed[Math.Min(10, Poisson.Sample(ref rng, 3.0))]++;
        }

        var chi2 = 0.0;
        var tail = 1.0;
        for (var k = 0; k <= 10; k++)
        {
            var p = k < 10 ? Math.Exp(-3 + (k * Math.Log(3)) - Poisson.LogFactorial(k)) : tail;
            tail -= p;
            chi2 += Math.Pow(observed[k] - (n * p), 2) / (n * p);
        }

        Assert.True(chi2 < 29.6, $"chi² = {chi2}");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-6)]
    [InlineData(0.5)]
    [InlineData(0.6931471805599453)]
    [InlineData(7.3)]
    [InlineData(11.999)]
    public void ExpNegative_MatchesMathExp(double x)
    {
        Assert.Equal(Math.Exp(-x), Poisson.ExpNegative(x), Math.Exp(-x) * 1e-10);
    }

    [Fact]
    public void LogFactorial_StirlingBranch_MatchesSum()
    {
        // ln(100!) = Σ ln k = 363.73937555556347 (exact sum).
        var exact = Enumerable.Range(1, 100).Sum(k => Math.Log(k));
        Assert.Equal(exact, Poisson.LogFactorial(100), 8);
    }
}
