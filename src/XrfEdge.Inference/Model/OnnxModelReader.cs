namespace XrfEdge.Inference.Model;

// A minimal protobuf wire-format walker over onnx.proto (ModelProto), enough to list op types, find tensors that
// reference external data, and spot weight DequantizeLinear nodes — without ONNX Runtime and without generated code.
// Field numbers (onnx.proto, IR 7–10):
//   ModelProto    ir_version=1 (varint), opset_import=8, graph=7, functions=25
//   OperatorSetId domain=1, version=2
//   GraphProto    node=1, initializer=5, sparse_initializer=15
//   NodeProto     input=1, op_type=4, attribute=5, domain=7
//   AttributeProto t=5, g=6, tensors=10, graphs=11, sparse_tensor=22, sparse_tensors=23
//   TensorProto   name=8, external_data=13, data_location=14 (EXTERNAL = 1)
//   SparseTensorProto values=1, indices=2 (TensorProto)
//   FunctionProto node=7
// Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32 (3/4 = deprecated groups, never used by ONNX).

/// <summary>Reads an <see cref="OnnxGraphSummary"/> from ONNX model bytes.</summary>
public static class OnnxModelReader
{
    private const int MaxDepth = 32;

    /// <summary>Summarises <paramref name="model"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed protobuf ModelProto.</exception>
    public static OnnxGraphSummary Read(ReadOnlySpan<byte> model)
    {
        if (model.IsEmpty)
        {
            throw new InvalidDataException("the model file is empty");
        }

        var state = new State();
        long irVersion = 0;
        var opsets = new List<string>();
        var sawGraph = false;
        var reader = new WireReader(model);
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 0):
                    irVersion = (long)reader.ReadVarint();
                    break;
                case (7, 2):
                    sawGraph = true;
                    ReadGraph(reader.ReadBytes(), state, isMain: true, depth: 0);
                    break;
                case (8, 2):
                    opsets.Add(ReadOpset(reader.ReadBytes()));
                    break;
                case (25, 2):
                    ReadFunction(reader.ReadBytes(), state, 0);
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (!sawGraph)
        {
            throw new InvalidDataException("the protobuf has no graph (field 7): not an ONNX model");
        }

        var weightDq = 0;
        foreach (var dataInput in state.DequantizeInputs)
        {
            if (state.Initializers.Contains(dataInput))
            {
                weightDq++;
            }
        }

        return new OnnxGraphSummary
        {
            IrVersion = irVersion,
            Opsets = opsets,
            OpTypes = state.OpOrder.Select(op => new KeyValuePair<string, int>(op, state.OpCounts[op])).ToArray(),
            ExternalDataTensors = state.External,
            InitializerCount = state.MainInitializers,
            WeightDequantizeNodes = weightDq,
        };
    }

    private static string ReadOpset(ReadOnlySpan<byte> bytes)
    {
        var reader = new WireReader(bytes);
        var domain = string.Empty;
        long version = 0;
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == 2)
            {
                domain = System.Text.Encoding.UTF8.GetString(reader.ReadBytes());
            }
            else if (field == 2 && wire == 0)
            {
                version = (long)reader.ReadVarint();
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(domain.Length == 0 ? "ai.onnx" : domain)}:{version}");
    }

    private static void ReadGraph(ReadOnlySpan<byte> bytes, State state, bool isMain, int depth)
    {
        Guard(depth);
        var reader = new WireReader(bytes);
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 2):
                    ReadNode(reader.ReadBytes(), state, depth + 1);
                    break;
                case (5, 2):
                    var name = ReadTensor(reader.ReadBytes(), state);
                    state.Initializers.Add(name);
                    if (isMain)
                    {
                        state.MainInitializers++;
                    }

                    break;
                case (15, 2):
                    ReadSparseTensor(reader.ReadBytes(), state);
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
    }

    private static void ReadFunction(ReadOnlySpan<byte> bytes, State state, int depth)
    {
        Guard(depth);
        var reader = new WireReader(bytes);
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 7 && wire == 2)
            {
                ReadNode(reader.ReadBytes(), state, depth + 1);
            }
            else
            {
                reader.Skip(wire);
            }
        }
    }

    private static void ReadNode(ReadOnlySpan<byte> bytes, State state, int depth)
    {
        Guard(depth);
        var reader = new WireReader(bytes);
        string? firstInput = null;
        var opType = string.Empty;
        var domain = string.Empty;
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 2):
                    var input = System.Text.Encoding.UTF8.GetString(reader.ReadBytes());
                    firstInput ??= input;
                    break;
                case (4, 2):
                    opType = System.Text.Encoding.UTF8.GetString(reader.ReadBytes());
                    break;
                case (7, 2):
                    domain = System.Text.Encoding.UTF8.GetString(reader.ReadBytes());
                    break;
                case (5, 2):
                    ReadAttribute(reader.ReadBytes(), state, depth + 1);
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        var key = domain.Length == 0 || domain == "ai.onnx" ? opType : $"{domain}:{opType}";
        if (!state.OpCounts.TryGetValue(key, out var count))
        {
            state.OpOrder.Add(key);
        }

        state.OpCounts[key] = count + 1;
        if (opType == "DequantizeLinear" && firstInput is not null)
        {
            state.DequantizeInputs.Add(firstInput);
        }
    }

    private static void ReadAttribute(ReadOnlySpan<byte> bytes, State state, int depth)
    {
        Guard(depth);
        var reader = new WireReader(bytes);
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (5, 2) or (10, 2):
                    ReadTensor(reader.ReadBytes(), state);
                    break;
                case (6, 2) or (11, 2):
                    ReadGraph(reader.ReadBytes(), state, isMain: false, depth + 1);
                    break;
                case (22, 2) or (23, 2):
                    ReadSparseTensor(reader.ReadBytes(), state);
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
    }

    private static void ReadSparseTensor(ReadOnlySpan<byte> bytes, State state)
    {
        var reader = new WireReader(bytes);
        while (reader.TryReadTag(out var field, out var wire))
        {
            if ((field == 1 || field == 2) && wire == 2)
            {
                ReadTensor(reader.ReadBytes(), state);
            }
            else
            {
                reader.Skip(wire);
            }
        }
    }

    private static string ReadTensor(ReadOnlySpan<byte> bytes, State state)
    {
        var reader = new WireReader(bytes);
        var name = string.Empty;
        var external = false;
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (8, 2):
                    name = System.Text.Encoding.UTF8.GetString(reader.ReadBytes());
                    break;
                case (13, 2):
                    external = true;
                    reader.Skip(wire);
                    break;
                case (14, 0):
                    external |= reader.ReadVarint() == 1;
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (external)
        {
            state.External.Add(name.Length == 0 ? "(unnamed tensor)" : name);
        }

        return name;
    }

    private static void Guard(int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException($"the model nests graphs deeper than {MaxDepth} levels");
        }
    }

    private sealed class State
    {
        public List<string> OpOrder { get; } = [];

        public Dictionary<string, int> OpCounts { get; } = new(StringComparer.Ordinal);

        public List<string> External { get; } = [];

        public HashSet<string> Initializers { get; } = new(StringComparer.Ordinal);

        public List<string> DequantizeInputs { get; } = [];

        public int MainInitializers { get; set; }
    }

    private ref struct WireReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public bool TryReadTag(out int field, out int wire)
        {
            if (_position >= _data.Length)
            {
                field = 0;
                wire = 0;
                return false;
            }

            var tag = ReadVarint();
            field = (int)(tag >> 3);
            wire = (int)(tag & 7);
            if (field == 0)
            {
                throw new InvalidDataException($"protobuf field number 0 at byte {_position}: not an ONNX model");
            }

            return true;
        }

        public ulong ReadVarint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_position >= _data.Length)
                {
                    throw new InvalidDataException("the protobuf is truncated (varint runs past the end)");
                }

                var b = _data[_position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            throw new InvalidDataException($"malformed protobuf varint at byte {_position}");
        }

        public ReadOnlySpan<byte> ReadBytes()
        {
            var length = ReadVarint();
            if (length > (ulong)(_data.Length - _position))
            {
                throw new InvalidDataException($"the protobuf is truncated (a field of {length} bytes at byte {_position} runs past the end, {_data.Length} bytes)");
            }

            var slice = _data.Slice(_position, (int)length);
            _position += (int)length;
            return slice;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0:
                    ReadVarint();
                    break;
                case 1:
                    Advance(8);
                    break;
                case 2:
                    ReadBytes();
                    break;
                case 5:
                    Advance(4);
                    break;
                default:
                    throw new InvalidDataException($"unsupported protobuf wire type {wire} at byte {_position}: not an ONNX model");
            }
        }

        private void Advance(int count)
        {
            if (_position + count > _data.Length)
            {
                throw new InvalidDataException("the protobuf is truncated");
            }

            _position += count;
        }
    }
}
