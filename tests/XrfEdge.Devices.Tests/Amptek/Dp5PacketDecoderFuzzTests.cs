using XrfEdge.Devices.Amptek;

namespace XrfEdge.Devices.Tests.Amptek;

public sealed class Dp5PacketDecoderFuzzTests
{
    [Theory]
    [InlineData(Dp5PacketKinds.Any)]
    [InlineData(Dp5PacketKinds.Responses)]
    public void Feed_OneMillionRandomBytes_NoExceptionBoundedBufferThenResyncs(Dp5PacketKinds kinds)
    {
        // Issue 6 asks for at least 1,000,000 random/mutated bytes; sync-rich random bytes exercise every rejection path.
        var random = new Random(20261121);
        var decoder = new Dp5PacketDecoder(kinds);
        var output = new List<Dp5Packet>();
        var chunk = new byte[4096];
        long fed = 0;
        while (fed < 1_000_000)
        {
            random.NextBytes(chunk);

            // Salt the noise with sync pairs and plausible headers so headers and checksums are really tried.
            for (var k = 0; k < 16; k++)
            {
                var at = random.Next(chunk.Length - 6);
                chunk[at] = 0xF5;
                chunk[at + 1] = 0xFA;
                chunk[at + 4] = (byte)random.Next(0, 3);
            }

            var n = random.Next(1, chunk.Length + 1);
            decoder.Feed(chunk.AsSpan(0, n), output);
            fed += n;
            Assert.InRange(decoder.BufferedByteCount, 0, Dp5Packet.MaxPacketLength - 1);
        }

        // Whatever state the noise left, a valid packet long enough to flush any pending LEN must be found
        // (82/0A list-mode data may carry the full 32767 bytes, so it is a valid response too).
        output.Clear();
        var marker = new Dp5Packet(0x8F, 0x7F, "resync"u8.ToArray());
        var flush = new Dp5Packet(0x82, 0x0A, new byte[Dp5Packet.MaxResponseDataLength]);
        decoder.Feed([.. flush.Encode(), .. marker.Encode()], output);
        Assert.Contains(output, p => p.Data.AsSpan().SequenceEqual("resync"u8));
        Assert.True(decoder.RejectedCount > 0, "the noise should have produced rejected headers or checksums");
        if (kinds == Dp5PacketKinds.Responses)
        {
            Assert.True(decoder.PidErrorCount > 0, "random PID pairs should have been rejected by the response rules");
        }
    }

    [Fact]
    public void Feed_OneMillionBytesOfMutatedValidPackets_NoExceptionAndIntactPacketsSurvive()
    {
        var random = new Random(7);
        var decoder = new Dp5PacketDecoder();
        var output = new List<Dp5Packet>();
        long fed = 0;
        var intact = 0;
        while (fed < 1_000_000)
        {
            var data = new byte[random.Next(0, 800)];
            random.NextBytes(data);
            var bytes = new Dp5Packet(0x81, (byte)random.Next(1, 13), data).Encode();
            var mutated = random.Next(4) != 0;
            if (mutated)
            {
                switch (random.Next(4))
                {
                    case 0:
                        bytes[random.Next(bytes.Length)] ^= (byte)random.Next(1, 256);
                        break;
                    case 1:
                        bytes = [.. bytes.AsSpan(0, bytes.Length / 2)];
                        break;
                    case 2:
                        bytes = [.. bytes.AsSpan(0, 3), .. bytes.AsSpan(4)];
                        break;
                    default:
                        bytes = [.. bytes, .. new byte[] { 0xF5, 0xFA, 0x00 }];
                        break;
                }
            }
            else
            {
                intact++;
            }

            decoder.Feed(bytes, output);
            fed += bytes.Length;
            Assert.InRange(decoder.BufferedByteCount, 0, Dp5Packet.MaxPacketLength - 1);
        }

        // Mutations can swallow a following packet into a long bogus LEN, so not every intact packet survives,
        // but resynchronisation must recover the large majority.
        Assert.True(output.Count >= intact * 0.8, $"decoded {output.Count} of {intact} intact packets");
        Assert.All(output, p => Assert.Equal(0x81, p.Pid1));
    }
}
