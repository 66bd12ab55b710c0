// Runs an ONNX model through ONNX Runtime (npm onnxruntime-node) on raw float32 input; a developer check of
// what the optimiser fuses. Usage: node ort_run.js MODEL IN.f32 N OUT_PREFIX [OPTIMIZED.onnx] [BATCH]
const ort = require(process.env.ORT_NODE || 'onnxruntime-node');
const fs = require('fs');
(async () => {
  const [model, input, nStr, outPrefix, optimized, batchStr] = process.argv.slice(2);
  const n = parseInt(nStr, 10);
  const batch = parseInt(batchStr || nStr, 10);
  const opts = { graphOptimizationLevel: 'all', intraOpNumThreads: 1 };
  if (optimized) opts.optimizedModelFilePath = optimized;
  const session = await ort.InferenceSession.create(model, opts);
  const buf = fs.readFileSync(input);
  const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const bins = x.length / n;
  const outs = {};
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    const r = await session.run({ spectrum: new ort.Tensor('float32', x.slice(i * bins, (i + m) * bins), [m, bins]) });
    for (const k of session.outputNames) { (outs[k] = outs[k] || []).push(r[k].data); }
  }
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  for (const k of session.outputNames) {
    const parts = outs[k];
    const total = parts.reduce((s, p) => s + p.length, 0);
    const all = new Float32Array(total); let off = 0;
    for (const p of parts) { all.set(p, off); off += p.length; }
    fs.writeFileSync(`${outPrefix}.${k}.f32`, Buffer.from(all.buffer));
  }
  console.log(JSON.stringify({ us_per_spectrum: us, outputs: session.outputNames }));
})().catch(e => { console.error(e.message || e); process.exit(1); });
