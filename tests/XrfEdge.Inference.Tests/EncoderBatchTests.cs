namespace XrfEdge.Inference.Tests;

/// <summary>Renting, returning and sizing <see cref="EncoderBatch"/>es from the encoder's pool.</summary>
public sealed class EncoderBatchTests
{
    [Fact]
    public void Rent_AfterDoubleDispose_TwoRentersGetSeparateBuffers()
    {
        using var encoder = LineEncoder.Open(TestModels.Int8);
        var batch = encoder.Rent(1);
        batch.Dispose();
        batch.Dispose();

        using var first = encoder.Rent(1);
        using var second = encoder.Rent(1);

        Assert.False(first.Input.Overlaps(second.Input));
    }

    [Fact]
    public void Input_AfterDispose_ThrowsObjectDisposed()
    {
        using var encoder = LineEncoder.Open(TestModels.Int8);
        var batch = encoder.Rent(1);
        batch.Dispose();
        using var next = encoder.Rent(1);

        // The stale rental must not reach the tensors the pool has handed to the next renter.
        Assert.Throws<ObjectDisposedException>(() => batch.InputRow(0));
        Assert.Throws<ObjectDisposedException>(batch.Run);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(100)]
    [InlineData(300)]
    public void Rent_AnySize_ExposesExactlyThatManyRows(int batchSize)
    {
        using var encoder = LineEncoder.Open(TestModels.Int8);
        using var batch = encoder.Rent(batchSize);

        // 300 input bins and 556 line outputs per spectrum: the model contract (docs/inference.md §3).
        Assert.Equal(batchSize, batch.BatchSize);
        Assert.Equal(batchSize * 300, batch.Input.Length);
        batch.Run();
        Assert.Equal(556, batch.LineProbabilities(batchSize - 1).Length);
    }

    [Fact]
    public void Run_RowInLargerPooledCapacity_IsBitIdenticalToBatchOfOne()
    {
        using var encoder = LineEncoder.Open(TestModels.Int8);
        var counts = Enumerable.Range(0, 5).Select(TestModels.SimulatedCounts).ToArray();
        using (var warm = encoder.Rent(8))
        {
            // Leaves garbage in rows 5..7 of the capacity-8 set that the 5-row run below reuses.
            warm.Input.Fill(1e6f);
            warm.Run();
        }

        using var five = encoder.Rent(5);
        for (var row = 0; row < counts.Length; row++)
        {
            counts[row].CopyTo(five.InputRow(row));
        }

        five.Run();
        for (var row = 0; row < counts.Length; row++)
        {
            using var one = encoder.Rent(1);
            counts[row].CopyTo(one.InputRow(0));
            one.Run();
            Assert.Equal(one.LineProbabilities(0).ToArray(), five.LineProbabilities(row).ToArray());
            Assert.Equal(one.ElementProbabilities(0).ToArray(), five.ElementProbabilities(row).ToArray());
        }
    }
}
