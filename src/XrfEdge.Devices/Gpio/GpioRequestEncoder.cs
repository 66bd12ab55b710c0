using System.Text;
using XrfEdge.Devices.Native;

namespace XrfEdge.Devices.Gpio;

/// <summary>Turns <see cref="GpioLineSettings"/> into the kernel's gpio_v2_line_request, and back (for the fake chip).</summary>
internal static class GpioRequestEncoder
{
    /// <summary>Kernel event buffer per request; 0 would let the kernel pick 16 × lines. 64 edges cover a bouncing switch between reads.</summary>
    public const uint EventBufferSize = 64;

    public static unsafe GpioV2LineRequest Encode(GpioLineSettings settings, string consumer)
    {
        var request = default(GpioV2LineRequest);
        request.Offsets[0] = (uint)settings.Offset;
        request.LineCount = 1;
        var name = Encoding.ASCII.GetBytes(consumer);
        for (int i = 0; i < Math.Min(name.Length, GpioV2Abi.MaxNameBytes - 1); i++)
        {
            request.Consumer[i] = name[i];
        }

        var flags = settings.Direction == GpioLineDirection.Input ? GpioV2LineFlags.Input : GpioV2LineFlags.Output;
        if (settings.ActiveLow)
        {
            flags |= GpioV2LineFlags.ActiveLow;
        }

        flags |= settings.Bias switch
        {
            GpioBias.PullUp => GpioV2LineFlags.BiasPullUp,
            GpioBias.PullDown => GpioV2LineFlags.BiasPullDown,
            GpioBias.Disabled => GpioV2LineFlags.BiasDisabled,
            _ => GpioV2LineFlags.None,
        };
        if (settings.Direction == GpioLineDirection.Input)
        {
            if ((settings.Edges & GpioEdge.Rising) != 0)
            {
                flags |= GpioV2LineFlags.EdgeRising;
            }

            if ((settings.Edges & GpioEdge.Falling) != 0)
            {
                flags |= GpioV2LineFlags.EdgeFalling;
            }

            if (settings.Edges != GpioEdge.None)
            {
                request.EventBufferSize = EventBufferSize;
            }
        }

        request.Config.Flags = flags;
        uint attributes = 0;
        if (settings.Direction == GpioLineDirection.Input && settings.DebouncePeriod > TimeSpan.Zero)
        {
            ref var debounce = ref request.Config.Attributes[(int)attributes++];
            debounce.Attribute.Id = GpioV2AttributeId.Debounce;
            debounce.Attribute.DebouncePeriodMicroseconds = (uint)Math.Ceiling(settings.DebouncePeriod.TotalMicroseconds);
            debounce.Mask = 1; // bit 0 = the request's first (only) line
        }

        if (settings.Direction == GpioLineDirection.Output)
        {
            ref var output = ref request.Config.Attributes[(int)attributes++];
            output.Attribute.Id = GpioV2AttributeId.OutputValues;
            output.Attribute.Value = settings.InitialValue ? 1UL : 0UL;
            output.Mask = 1;
        }

        request.Config.AttributeCount = attributes;
        return request;
    }

    /// <summary>Reads the debounce period (µs) the request asks for line index 0, or 0.</summary>
    public static uint DebounceMicroseconds(in GpioV2LineRequest request)
    {
        for (int i = 0; i < request.Config.AttributeCount; i++)
        {
            var attribute = request.Config.Attributes[i];
            if (attribute.Attribute.Id == GpioV2AttributeId.Debounce && (attribute.Mask & 1) != 0)
            {
                return attribute.Attribute.DebouncePeriodMicroseconds;
            }
        }

        return 0;
    }

    /// <summary>Reads the initial output value the request asks for line index 0.</summary>
    public static bool InitialOutput(in GpioV2LineRequest request)
    {
        for (int i = 0; i < request.Config.AttributeCount; i++)
        {
            var attribute = request.Config.Attributes[i];
            if (attribute.Attribute.Id == GpioV2AttributeId.OutputValues && (attribute.Mask & 1) != 0)
            {
                return (attribute.Attribute.Value & 1) != 0;
            }
        }

        return false;
    }
}
