using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Physics;

namespace XrfEdge.Spectra.Tests.Physics;

/// <summary>
/// Pins values of the embedded tables against xraylib 4.0.0 (Debian python3-xraylib), evaluated by hand with
/// <c>/usr/bin/python3 -c "import xraylib as x; …"</c>; the expected numbers below are those printouts.
/// float32 storage allows a relative error of about 1e-7; the tolerance is 1e-5.
/// </summary>
public sealed class PhysicsTablesTests
{
    private const double Relative = 1e-5;
    private static readonly PhysicsTables Tables = PhysicsTables.Default;
    private static readonly LineCatalog Catalog = LineCatalog.Default;

    private static void Close(double expected, double actual) =>
        Assert.True(Math.Abs(actual - expected) <= Relative * Math.Abs(expected), $"expected {expected}, got {actual}");

    [Fact]
    public void Default_Loads_ShapesMatchCatalogue()
    {
        Assert.Null(Tables.CheckAgainst(Catalog));
        Assert.Equal(49, Tables.Absorbers.Count); // 41 catalogue elements + H He Be B C N W + Air
        Assert.Equal("Air", Tables.Absorbers[^1]);
        Assert.Equal(48, Tables.Elements.Count);
    }

    [Fact]
    public void LineCrossSection_FeKL3At20keV_MatchesXraylib()
    {
        // CS_FluorLine_Kissel_Cascade(26, KL3_LINE, 20.05) = 4.603588428645595 cm²/g; 20.05 keV is grid bin 200.
        Catalog.TryGetLine("Fe-KL3", out var fe);
        Close(4.603588428645595, Tables.LineCrossSection(fe!.Index)[200]);
        Assert.Equal(20.05, PhysicsTables.GridCentreKeV(200), 10);
    }

    [Fact]
    public void LineCrossSection_PbL3M5At30keV_MatchesXraylib()
    {
        // CS_FluorLine_Kissel_Cascade(82, L3M5_LINE, 30.05) = 3.3851149642613887 cm²/g.
        Catalog.TryGetLine("Pb-L3M5", out var pb);
        Close(3.3851149642613887, Tables.LineCrossSection(pb!.Index)[300]);
    }

    [Fact]
    public void LineCrossSection_BelowEdge_IsZero()
    {
        // Fe K edge is 7.112 keV (EdgeEnergy): bin 70 (7.05 keV) cannot excite Fe-KL3.
        Catalog.TryGetLine("Fe-KL3", out var fe);
        Assert.Equal(0f, Tables.LineCrossSection(fe!.Index)[70]);
        Assert.True(Tables.LineCrossSection(fe.Index)[71] > 0);
    }

    [Fact]
    public void LineCrossSectionAtAnodeLine_CuKL3ByRhKL3_MatchesXraylib()
    {
        // CS_FluorLine_Kissel_Cascade(29, KL3_LINE, LineEnergy(45, KL3_LINE) = 20.2161) = 7.547190448612034.
        Catalog.TryGetLine("Cu-KL3", out var cu);
        var rh = Tables.AnodeLines.Single(l => l.Name == "Rh-KL3");
        Assert.Equal(20.2161, rh.EnergyKeV, 4);
        Close(7.547190448612034, Tables.LineCrossSectionAtAnodeLine(cu!.Index, rh.Index));
    }

    [Fact]
    public void MassAttenuation_GridValues_MatchXraylib()
    {
        // CS_Total(26, 10.05) = 168.43382553387187; CS_Photo(14, 5.05) = 237.09139378571268;
        // CS_Total_CP("Air, Dry (near sea level)", 3.05) = 154.7684997631427.
        Close(168.43382553387187, Tables.MassAttenuation(Tables.AbsorberIndex("Fe"))[100]);
        Close(237.09139378571268, Tables.Photoabsorption(Tables.AbsorberIndex("Si"))[50]);
        Close(154.7684997631427, Tables.MassAttenuation(Tables.AbsorberIndex("Air"))[30]);
    }

    [Fact]
    public void MassAttenuationAtLine_AcrossEdges_IsExact()
    {
        // Ni Kα lies above the Fe K edge and is strongly absorbed: CS_Total(26, 7.4781) = 360.9179643806827;
        // Cu Kα below the Ni K edge: CS_Total(28, 8.0478) = 48.72011719300515.
        Catalog.TryGetLine("Ni-KL3", out var ni);
        Catalog.TryGetLine("Cu-KL3", out var cu);
        Close(360.9179643806827, Tables.MassAttenuationAtLine(Tables.AbsorberIndex("Fe"), ni!.Index));
        Close(48.72011719300515, Tables.MassAttenuationAtLine(Tables.AbsorberIndex("Ni"), cu!.Index));
    }

    [Fact]
    public void Differential_OnTabulatedPoints_MatchesXraylib()
    {
        // DCS_Rayl(26, 20.0, 120°) = 0.013587103519614837; DCS_Compt(6, 20.0, 90°) = 0.010178232428557001 cm²/g/sr.
        Close(0.013587103519614837, Tables.RayleighDifferential(Tables.AbsorberIndex("Fe"), 20.0, 120));
        Close(0.010178232428557001, Tables.ComptonDifferential(Tables.AbsorberIndex("C"), 20.0, 90));
    }

    [Fact]
    public void ComptonEnergyKeV_RhKL3At90Degrees_MatchesXraylib()
    {
        // ComptonEnergy(20.216, π/2) = 19.44665668064208 keV.
        Assert.Equal(19.44665668064208, PhysicsTables.ComptonEnergyKeV(20.216, 90), 6);
    }

    [Fact]
    public void ReadTable_BadHeader_ThrowsNamingFile()
    {
        var ex = Assert.Throws<FormatException>(() => PhysicsTables.ReadTable(new byte[20], "broken.bin"));
        Assert.Contains("broken.bin", ex.Message, StringComparison.Ordinal);
    }
}
