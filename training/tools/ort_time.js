// Batch-1 latency of ONNX models through ONNX Runtime (npm onnxruntime-node), 1 intra-op thread: a developer
// measurement of where a call's time goes (latency_split.py builds the models). Prints one JSON line per model.
// Usage: node ort_time.js MODEL:INPUT_NAME:WIDTH [...]
const ort = require(process.env.ORT_NODE || 'onnxruntime-node');
(async () => {
  for (const spec of process.argv.slice(2)) {
    const [file, inName, widthStr] = spec.split(':');
    const width = parseInt(widthStr, 10);
    const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', intraOpNumThreads: 1,
      interOpNumThreads: 1, executionMode: 'sequential' });
    const x = new Float32Array(width);
    for (let i = 0; i < width; i++) x[i] = width === 300 ? (i % 37) * 13 + 5 : (i % 17) / 17;  // counts / features
    const feeds = { [inName]: new ort.Tensor('float32', x, [1, width]) };
    for (let i = 0; i < 2000; i++) await session.run(feeds);   // warm-up
    const perCall = [];
    for (let r = 0; r < 5; r++) {
      const n = 4000;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await session.run(feeds);
      perCall.push(Number(process.hrtime.bigint() - t0) / n / 1000);
    }
    perCall.sort((a, b) => a - b);
    console.log(JSON.stringify({ model: file, median_us: +perCall[2].toFixed(1), runs_us: perCall.map(v => +v.toFixed(1)) }));
  }
})();
