// Batch-1 latency of ONNX models through ONNX Runtime (npm onnxruntime-node), 1 intra-op thread: a developer
// measurement of where a call's time goes (latency_split.py builds the models) and A/B comparisons of graphs.
// The models are timed interleaved (round r times every model once, 4,000 calls each), so a machine that drifts
// between rounds slows every model alike; each model's figure is its median over the rounds.
// Prints one JSON line per model. Usage: [ROUNDS=9] node ort_time.js MODEL:INPUT_NAME:WIDTH [...]
const ort = require(process.env.ORT_NODE || 'onnxruntime-node');
(async () => {
  const rounds = parseInt(process.env.ROUNDS || '9', 10);
  const models = [];
  for (const spec of process.argv.slice(2)) {
    const [file, inName, widthStr] = spec.split(':');
    const width = parseInt(widthStr, 10);
    const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', intraOpNumThreads: 1,
      interOpNumThreads: 1, executionMode: 'sequential' });
    const x = new Float32Array(width);
    for (let i = 0; i < width; i++) x[i] = width === 300 ? (i % 37) * 13 + 5 : (i % 17) / 17;  // counts / features
    const feeds = { [inName]: new ort.Tensor('float32', x, [1, width]) };
    for (let i = 0; i < 2000; i++) await session.run(feeds);   // warm-up
    models.push({ file, session, feeds, perCall: [] });
  }
  for (let r = 0; r < rounds; r++) {
    for (const m of models) {
      const n = 4000;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await m.session.run(m.feeds);
      m.perCall.push(Number(process.hrtime.bigint() - t0) / n / 1000);
    }
  }
  for (const m of models) {
    const s = [...m.perCall].sort((a, b) => a - b);
    console.log(JSON.stringify({ model: m.file, median_us: +s[Math.floor(s.length / 2)].toFixed(1),
      runs_us: m.perCall.map(v => +v.toFixed(1)) }));
  }
})();
