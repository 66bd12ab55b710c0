using System.Diagnostics;
using System.Security.Cryptography;
using XrfEdge.Spectra.Catalog;

namespace XrfEdge.Spectra.Tests.Catalog;

public sealed class LineCatalogTests
{
    private static readonly LineCatalog Catalog = LineCatalog.Default;

    // The 41 elements of issue 2 / the paper, in Z order.
    private static readonly string[] ExpectedElements =
        "O F Na Mg Al Si P S Cl Ar K Ca Ti V Cr Mn Fe Co Ni Cu Zn Ge As Br Sr Zr Mo Rh Pd Ag Cd Sn Sb Te Cs Ba Pt Au Hg Pb Bi".Split(' ');

    // The Siegbahn order of issue 2 (ties in energy break by Z, then by this order).
    private static readonly string[] SiegbahnOrder =
        "Ka1 Ka2 Ka3 Kb1 Kb2 Kb3 Kb4 Kb5 La1 La2 Lb1 Lb2 Lb3 Lb4 Lb5 Lg1 Lg2 Lg3 Lg4 Ll Ln Ma1 Ma2 Mb Mg".Split(' ');

    [Fact]
    public void Default_Has556LinesAnd41Elements()
    {
        Assert.Equal(556, Catalog.Lines.Count);
        Assert.Equal(556, LineCatalog.ExpectedLineCount);
        Assert.Equal(41, Catalog.Elements.Count);
    }

    [Fact]
    public void Elements_AreTheIssueListOrderedByZ()
    {
        Assert.Equal(ExpectedElements, Catalog.Elements.Select(e => e.Symbol));
        Assert.Equal(Catalog.Elements.OrderBy(e => e.AtomicNumber).Select(e => e.Symbol), Catalog.Elements.Select(e => e.Symbol));
        for (var i = 0; i < Catalog.Elements.Count; i++)
        {
            Assert.Equal(i, Catalog.ElementIndex(Catalog.Elements[i].Symbol));
        }

        Assert.Equal(-1, Catalog.ElementIndex("U"));
    }

    [Fact]
    public void Lines_OrderedByEnergyThenZThenSiegbahnOrder()
    {
        for (var i = 0; i < Catalog.Lines.Count; i++)
        {
            Assert.Equal(i, Catalog.Lines[i].Index);
        }

        for (var i = 1; i < Catalog.Lines.Count; i++)
        {
            var a = Catalog.Lines[i - 1];
            var b = Catalog.Lines[i];
            var key = (a.EnergyKeV, a.AtomicNumber, Order(a)).CompareTo((b.EnergyKeV, b.AtomicNumber, Order(b)));
            Assert.True(key < 0, $"{a.Name} ({a.EnergyKeV} keV) must come before {b.Name} ({b.EnergyKeV} keV)");
        }

        static int Order(EmissionLine line) => Array.IndexOf(SiegbahnOrder, line.SiegbahnName[(line.Element.Length + 1)..]);
    }

    [Fact]
    public void Lines_AllBelow2995KeVAndNonZero()
    {
        // 29.95 keV is the issue's cut (the one line between it and 30 keV, Sb Kb5, is out).
        Assert.All(Catalog.Lines, l => Assert.InRange(l.EnergyKeV, 1e-9, 29.95));
        Assert.All(Catalog.Lines, l => Assert.Contains(l.Element, ExpectedElements));
    }

    [Fact]
    public void Hash_IsSha256OfTheCommittedCsv()
    {
        var path = Path.Combine(RepositoryRoot.Require(), "src/XrfEdge.Spectra/Data/emission-lines.csv");

        var expected = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

        Assert.Equal(expected, Catalog.Hash);
        Assert.Equal(64, Catalog.Hash.Length);
    }

    [Theory]
    // xraylib 4.0.0 LineEnergy values (also the published anchors for Fe and Cu Kα1).
    [InlineData("Fe-KL3", "Fe Ka1", 6.4039)]
    [InlineData("Cu-KL3", "Cu Ka1", 8.0478)]
    [InlineData("Pb-L3M5", "Pb La1", 10.5512)]
    public void TryGetLine_PinnedXraylibEnergies(string name, string siegbahn, double energyKeV)
    {
        Assert.True(Catalog.TryGetLine(name, out var line));
        Assert.Equal(siegbahn, line.SiegbahnName);
        Assert.Equal(energyKeV, line.EnergyKeV, 4);
    }

    [Fact]
    public void PbL3M5_WithinHalfAnElectronVoltOfThePublished10_5515()
    {
        // Some tables print Pb Lα1 = 10.5515 keV; xraylib's 10.5512 is 0.3 eV away, inside 0.5 eV.
        Assert.True(Catalog.TryGetLine("Pb-L3M5", out var line));
        Assert.InRange(Math.Abs(line.EnergyKeV - 10.5515), 0, 0.0005);
    }

    [Fact]
    public void TryGetLine_UnknownName_ReturnsFalse()
    {
        Assert.False(Catalog.TryGetLine("Fe Ka1", out _));
        Assert.False(Catalog.TryGetLine("U-L3M5", out _));
    }

    [Fact]
    public void LinesByElement_PartitionsTheCatalogue()
    {
        Assert.Equal(41, Catalog.LinesByElement.Count);
        Assert.Equal(556, Catalog.LinesByElement.Sum(l => l.Count));
        for (var i = 0; i < Catalog.Elements.Count; i++)
        {
            Assert.All(Catalog.LinesByElement[i], l => Assert.Equal(Catalog.Elements[i].Symbol, l.Element));
        }
    }

    [DebianPythonFact("xraylib")]
    public void GenerateCatalog_RerunWithXraylib_ReproducesCommittedBytes()
    {
        var root = RepositoryRoot.Require();
        var output = Path.Combine(Path.GetTempPath(), $"xrfedge-catalog-{Guid.NewGuid():N}.csv");
        try
        {
            var start = new ProcessStartInfo("/usr/bin/python3", [Path.Combine(root, "scripts/physics/generate_catalog.py"), "--out", output])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, stderr);

            Assert.Equal(File.ReadAllBytes(Path.Combine(root, "src/XrfEdge.Spectra/Data/emission-lines.csv")), File.ReadAllBytes(output));
        }
        finally
        {
            File.Delete(output);
        }
    }
}
