using FsCheck;
using FsCheck.Fluent;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Spectra.Tests.Calibration;

public sealed class EnergyCalibrationTests
{
    // The NIST Bruker spectra in ../shared/spectra: 4096 channels, offset −0.9553045 keV, 0.009999 keV/channel.
    private static readonly EnergyCalibration Nist = new(-0.9553045, 0.009999);

    [Fact]
    public void EnergyKeV_NistLinear_ChannelCentreMatchesFormula()
    {
        // E(1000) = −0.9553045 + 0.009999·1000 = 9.0436955 keV.
        Assert.Equal(9.0436955, Nist.EnergyKeV(1000), 12);
    }

    [Fact]
    public void Edges_AreHalfAChannelAroundTheCentre()
    {
        Assert.Equal(Nist.EnergyKeV(-0.5), Nist.LowerEdgeKeV(0), 15);
        Assert.Equal(Nist.EnergyKeV(0.5), Nist.UpperEdgeKeV(0), 15);
        Assert.Equal(Nist.UpperEdgeKeV(41), Nist.LowerEdgeKeV(42), 15);
    }

    [Fact]
    public void Channel_LinearInverse_RecoversChannel()
    {
        // Fe Kα1 at 6.4039 keV (xraylib 4.0) sits at (6.4039 + 0.9553045) / 0.009999 = 735.99… channels.
        Assert.Equal((6.4039 + 0.9553045) / 0.009999, Nist.Channel(6.4039), 9);
    }

    [Fact]
    public void Channel_QuadraticInverse_RoundTripsOverTheWholeRange()
    {
        // q = ±2e-7 keV/ch² is a strong SDD non-linearity (about 3 keV at channel 4096) yet monotonic over 4096 channels.
        foreach (var quadratic in new[] { 2e-7, -2e-7 })
        {
            var calibration = new EnergyCalibration(-0.05, 0.0075, quadratic);
            Assert.Null(calibration.Validate(4096));
            for (var channel = 0.0; channel <= 4095; channel += 13.7)
            {
                Assert.Equal(channel, calibration.Channel(calibration.EnergyKeV(channel)), 7);
            }
        }
    }

    [Fact]
    public void Channel_QuadraticInverse_PropertyRoundTrip()
    {
        // Gains 0.002–0.05 keV/ch, |q| up to 1e-6 keV/ch², channels inside the monotonic range.
        var cases = Gen.Choose(2, 50).SelectMany(
            gain => Gen.Choose(-1000, 1000).SelectMany(
                q => Gen.Choose(0, 4095).Select(channel => (Gain: gain / 1000.0, Quadratic: q * 1e-9, Channel: (double)channel))));
        var property = Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var calibration = new EnergyCalibration(-0.5, c.Gain, c.Quadratic);
            var valid = calibration.Validate(4096) is null;
            var back = calibration.Channel(calibration.EnergyKeV(c.Channel));
            return Prop.When(valid, () => Math.Abs(back - c.Channel) < 1e-6);
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }

    [Fact]
    public void Channel_TinyQuadratic_ContinuousWithLinearSolution()
    {
        var linear = new EnergyCalibration(0.1, 0.01);
        var almost = new EnergyCalibration(0.1, 0.01, 1e-15);

        Assert.Equal(linear.Channel(20), almost.Channel(20), 6);
    }

    [Fact]
    public void Channel_EnergyBeyondTheParabolaVertex_IsNaN()
    {
        // With q < 0 the energy peaks at c = −g/(2q) = 500: E = 0 + 0.01·500 − 1e-5·500² = 2.5 keV; 3 keV has no channel.
        var calibration = new EnergyCalibration(0, 0.01, -1e-5);

        Assert.True(double.IsNaN(calibration.Channel(3)));
    }

    [Fact]
    public void Validate_Nist_IsUsable() => Assert.Null(Nist.Validate(4096));

    public static TheoryData<double, double, double, int, string> Invalid => new()
    {
        { double.NaN, 0.01, 0, 1024, "non-finite" },
        { 0, double.PositiveInfinity, 0, 1024, "non-finite" },
        { 0, 0.01, double.NaN, 1024, "non-finite" },
        { 0, 0, 0, 1024, "gain must be positive" },
        { 0, -0.01, 0, 1024, "gain must be positive" },
        // 2 keV/channel is EnergyCalibration.MaxGainKeVPerChannel; 3 is above it.
        { 0, 3, 0, 1024, "above the plausible maximum" },
        // ±50 keV is EnergyCalibration.MaxAbsOffsetKeV.
        { -60, 0.01, 0, 1024, "outside ±50 keV" },
        { 60, 0.01, 0, 1024, "outside ±50 keV" },
        // dE/dc = 0.01 − 2e-5·c reaches 0 at channel 250: fine for 200 channels, not for 1024.
        { 0, 0.01, -1e-5, 1024, "not monotonic over 1024 channels" },
        // q > 0 can also break monotonicity at the lower edge c = −½ only if g < q; here g = 1e-3, q = 2e-3.
        { 0, 1e-3, 2e-3, 1024, "not monotonic" },
        // 0.2 eV/channel is EnergyCalibration.MinGainKeVPerChannel: 0.01 eV is a 10 eV/channel gain written in keV (0.01)
        // but labelled eV, read as 1e-5 keV.
        { 0, 1e-5, 0, 1024, "below the plausible minimum 0.0002" },
        // 16384 channels × 1.9 eV from −10 eV (the finest common MCA setting) written in eV but read as keV: each term is
        // plausible alone, the channels end at 31,120 "keV" (EnergyCalibration.MaxFullScaleKeV is 1000).
        { -10, 1.9, 0, 16384, "full scale" },
        // 1024 channels × 1 keV: a 1 keV-per-channel gain is plausible for 64 channels, not for 1024 (1,024 keV).
        { 0, 1, 0, 1024, "full scale" },
        // A quadratic term in eV/ch² (3e-4 eV/ch²) with gain and offset in keV: dE/dc = 0.01 + 2·3e-4·c is 10 eV/channel
        // at channel 0 and 2.47 keV/channel at the last edge, above EnergyCalibration.MaxGainKeVPerChannel (2).
        { 0, 0.01, 3e-4, 4096, "local gain" },
        // Monotonic but flat: dE/dc = 0.01 − 2·4.99e-6·c falls to 2.5e-5 keV/channel (0.025 eV) at the last edge, below
        // the 0.2 eV/channel minimum: a quadratic fit extrapolated to its turning point, not a detector.
        { 0, 0.01, -4.99e-6, 1000, "local gain" },
        // No channels: nothing to calibrate; the coverage report would read "partial" for a spectrum that fills no bin.
        { 5, 0.01, 0, 0, "no channels" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_BadCalibration_SaysWhatIsWrong(double offset, double gain, double quadratic, int channels, string expected)
    {
        var problem = new EnergyCalibration(offset, gain, quadratic).Validate(channels);

        Assert.NotNull(problem);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Theory]
    // 16384 channels × 1.9 eV (the finest common setting), 8192 × 5 eV, 4096 × 10 eV, 1024 × 40 eV, 512 × 60 eV, and
    // 64 × 2 keV (EnergyCalibration.MaxGainKeVPerChannel: 128 keV) all stay below the 1000 keV full-scale limit.
    [InlineData(-0.01, 0.0019, 0, 16384)]
    [InlineData(-0.02, 0.005, 0, 8192)]
    [InlineData(0, 0.01, 0, 4096)]
    [InlineData(0.05, 0.04, 0, 1024)]
    [InlineData(-0.1, 0.06, 0, 512)]
    [InlineData(0, 2, 0, 64)]
    // 16384 channels × 0.3 eV (0–4.9 keV): the finest setting of a 16k-channel MCA behind an HPGe-class light-element
    // detector; refused below 0.5 eV/channel until 2026-11-24.
    [InlineData(0, 0.0003, 0, 16384)]
    // A strong SDD non-linearity (as Channel_QuadraticInverse_RoundTripsOverTheWholeRange) keeps its local gain in range.
    [InlineData(-0.05, 0.0075, -2e-7, 4096)]
    public void Validate_RealMcaSettings_AreUsable(double offset, double gain, double quadratic, int channels) =>
        Assert.Null(new EnergyCalibration(offset, gain, quadratic).Validate(channels));

    [Theory]
    // Real gains (2.5–40 eV/channel) written in keV but labelled eV, or in MeV but labelled keV: 1000× too small.
    [InlineData(0.0025e-3)]
    [InlineData(0.01e-3)]
    [InlineData(0.04e-3)]
    public void Validate_GainAThousandTimesTooSmall_HintsAtTheUnitThatMakesItSo(double gain)
    {
        var problem = new EnergyCalibration(0, gain).Validate(4096);

        Assert.NotNull(problem);
        Assert.Contains("below the plausible minimum", problem, StringComparison.Ordinal);
        // A too-small gain comes from keV values labelled eV (or MeV values labelled keV); "eV labelled keV" gives 1000× too large.
        Assert.Contains("keV calibration labelled eV", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NegativeQuadraticWithinRange_IsUsable()
    {
        // Same calibration as the failing case above, but 200 channels stay below the turning point at channel 250.
        Assert.Null(new EnergyCalibration(0, 0.01, -1e-5).Validate(200));
    }
}
