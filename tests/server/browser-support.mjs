// What the browser tests share: Debian's chromium and its flags, and the
// fake camera (a face clip as a y4m file made at test time).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';
export const SKIP = 77;   // meson's "skipped"
export const baseArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Exits with SKIP when chromium or the face clip is missing; else the clip.
export function requireBrowser() {
  const clip = join(process.env.MT_SHARED_DIR ?? '../shared', 'media', 'short_hamilton_clip.mp4');
  if (!existsSync(CHROMIUM)) {
    console.log('SKIP: Debian\'s chromium is not installed');
    process.exit(SKIP);
  }
  if (!existsSync(clip)) {
    console.log('SKIP: ' + clip + ' is missing');
    process.exit(SKIP);
  }
  return clip;
}

// The fake camera: @clip as y4m.  GStreamer writes the raw I420 frames; the
// y4m framing is added here, because y4menc (1.22) copies the decoder's
// padded rows into each frame.  Returns { args, remove() }: the chromium
// flags that play it as the camera.
export function makeFakeCamera(clip) {
  const WIDTH = 640, HEIGHT = 360, FRAME_BYTES = WIDTH * HEIGHT * 3 / 2;
  const work = mkdtempSync(join(tmpdir(), 'mt-browser-'));
  const raw = join(work, 'face.i420');
  const y4m = join(work, 'face.y4m');
  const gst = spawnSync('gst-launch-1.0', ['-q', 'filesrc', 'location=' + clip, '!', 'decodebin', '!', 'videoconvert', '!',
    'videoscale', '!', `video/x-raw,format=I420,width=${WIDTH},height=${HEIGHT}`, '!', 'filesink', 'location=' + raw],
  { encoding: 'utf8' });
  assert.equal(gst.status, 0, 'gst-launch-1.0 failed: ' + gst.stderr);
  const frames = readFileSync(raw);
  assert.ok(frames.length >= FRAME_BYTES && frames.length % FRAME_BYTES === 0, 'unexpected raw video size');
  const out = openSync(y4m, 'w');
  writeSync(out, `YUV4MPEG2 W${WIDTH} H${HEIGHT} F30000:1001 Ip A1:1 C420jpeg\n`);
  for (let at = 0; at < frames.length; at += FRAME_BYTES) {
    writeSync(out, 'FRAME\n');
    writeSync(out, frames, at, FRAME_BYTES);
  }
  closeSync(out);
  rmSync(raw);
  return {
    args: ['--use-fake-device-for-media-stream', '--use-file-for-fake-video-capture=' + y4m],
    remove: () => rmSync(work, { recursive: true, force: true }),
  };
}

// The page's console errors and uncaught exceptions, as they come.
export function collectErrors(page) {
  const errors = [];
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  page.on('pageerror', (error) => errors.push(String(error)));
  return errors;
}
