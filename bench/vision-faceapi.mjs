// Times face-api.js (the TensorFlow.js original of our face detector and
// expression network, wasm backend) on the frames bench-vision wrote.
//
//   node bench/vision-faceapi.mjs FRAMES_DIR [RUNS]
//
// Prints a table, then "faceapi KEY MS" lines (medians) for bench/vision.sh.
// Uses the packages of tests/reference (bash build-aux/setup-deps.sh --tests).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const top = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(top, 'tests', 'reference', 'package.json'));
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const { tf } = faceapi;

const [framesDir, runsArg] = process.argv.slice(2);
if (!framesDir) {
  console.error('usage: node bench/vision-faceapi.mjs FRAMES_DIR [RUNS]');
  process.exit(2);
}
const runs = Math.max(3, Number(runsArg || 30));
const SIZES = [224, 320, 416];

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

// Median and 90th percentile of `runs` timed calls after 3 untimed ones.
async function time(fn) {
  for (let i = 0; i < 3; i++) await fn(i);
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { median: percentile(ms, 0.5), p90: percentile(ms, 0.9) };
}

await tf.setBackend('wasm');
await tf.ready();
const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
await faceapi.nets.faceExpressionNet.loadFromDisk(modelDir);

// frames.txt: name width height face-x face-y face-w face-h
const frames = fs.readFileSync(path.join(framesDir, 'frames.txt'), 'utf8').trim().split('\n').map((line) => {
  const [name, w, h, fx, fy, fw, fh] = line.split(' ');
  const bytes = fs.readFileSync(path.join(framesDir, name));
  const width = Number(w);
  const height = Number(h);
  return {
    name,
    tensor: tf.tensor3d(new Int32Array(bytes), [height, width, 3], 'int32'),
    face: [fx, fy, fw, fh].map(Number),
    width,
    height,
  };
});

console.log(`face-api.js ${require('@vladmandic/face-api/package.json').version}, tfjs ${tf.version_core} `
  + `(${tf.getBackend()} backend, simd ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, `
  + `threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')}), ${frames.length} frames, ${runs} runs`);
console.log(`${'face-api.js'.padEnd(34)} ${'median'.padStart(8)} ${'p90'.padStart(8)}`);

const results = [];
function report(key, label, t) {
  console.log(`${label.padEnd(34)} ${t.median.toFixed(2).padStart(8)} ${t.p90.toFixed(2).padStart(8)}`);
  results.push(`faceapi ${key} ${t.median.toFixed(3)}`);
}

// The networks alone, as bench-vision times ours (mt_net_forward on an input
// already at the network's size): forwardInput() on a tensor already at that
// size, its output read back.  face-api.js still resizes (to the same size)
// and normalizes inside forwardInput(), which ours folds into the first layer.
async function forwardOnly(net, input, ...args) {
  const netInput = await faceapi.toNetInput(input);
  return async () => {
    const out = tf.tidy(() => net.forwardInput(netInput, ...args));
    await out.data();
    out.dispose();
  };
}

function square(f, size) {
  return tf.tidy(() => {
    const padded = tf.pad(f.tensor, [[0, f.width - f.height], [0, 0], [0, 0]]);
    return tf.image.resizeBilinear(padded, [size, size]).toInt();
  });
}

for (const size of SIZES) {
  const fns = await Promise.all(frames.map((f) => forwardOnly(faceapi.nets.tinyFaceDetector, square(f, size), size)));
  report(`detector-${size}`, `network forward ${size}x${size}`, await time(async (i) => fns[i % fns.length]()));
}

// The expression network on each frame's face crop, already at 112x112.
const crops = frames.map((f) => {
  const [x, y, w, h] = f.face.map(Math.round);
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  return tf.tidy(() => tf.image.resizeBilinear(
    tf.slice(f.tensor, [y0, x0, 0], [Math.min(h, f.height - y0), Math.min(w, f.width - x0), 3]), [112, 112]).toInt());
});
{
  const fns = await Promise.all(crops.map((c) => forwardOnly(faceapi.nets.faceExpressionNet, c)));
  report('face-expression', 'expression network forward', await time(async (i) => fns[i % fns.length]()));
}

// A whole frame, the whole pipeline (input conversion, resize, the detector,
// decoding, NMS, crops, the expression network): detection at 320 and the
// expressions of every face.  bench-vision times the same work with the
// same networks through mt_analyzer_analyze() (key analyze-tiny-320).
const options320 = new faceapi.TinyFaceDetectorOptions({ inputSize: 320, scoreThreshold: 0.5 });
report('analyze-tiny-320', 'detectAllFaces 320 + expressions', await time(async (i) => {
  await faceapi.detectAllFaces(frames[i % frames.length].tensor, options320).withFaceExpressions();
}));

for (const line of results) console.log(line);
