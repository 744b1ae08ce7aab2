// The companion page in a real browser: Debian's chromium, headless, driven
// by playwright-core, with a fake camera playing a real face video.  Checks
// that a mood and songs appear, that like works, that every stream message
// matches the OpenAPI schemas, that the page says so when the server goes and
// comes back (with the same token), that the link of a server restarted
// with a new token wins over the old cookie, and that a denied camera gets
// a clear message.  Saves screenshots in the build directory.
//   node browser.mjs API-JSON MOODTUNES-SERVER MAKE-TEST-LIBRARY OUT-DIR
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { chromium } from 'playwright-core';
import { CHROMIUM, baseArgs, collectErrors, makeFakeCamera, requireBrowser } from './browser-support.mjs';
import { makeLibrary, startServer } from './server-process.mjs';

const [apiPath, serverPath, makeTestLibrary, outDir] = process.argv.slice(2);
const clip = requireBrowser();
mkdirSync(outDir, { recursive: true });

const api = JSON.parse(readFileSync(apiPath, 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema(api, 'api');
const validateMessage = ajv.compile({ $ref: 'api#/components/schemas/StreamServerMessage' });

const camera = makeFakeCamera(clip);
const cameraArgs = camera.args;

// The token is needed on loopback too; a kept one (as the app's settings
// keep it) survives a restart.
const TOKEN = 'c0ffeec0ffeec0ffeec0ffeec0ffeec0';
const NEW_TOKEN = 'beadbeadbeadbeadbeadbeadbeadbead';
const library = makeLibrary(makeTestLibrary, 5);
let server = await startServer(serverPath, ['--port', '0', '--db', library.db, '--token', TOKEN]);
const port = server.port;
const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...baseArgs, ...cameraArgs, '--use-fake-ui-for-media-stream'] });
let failed = true;
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  const consoleErrors = collectErrors(page);

  // Every message the server sends on the stream must match the API.
  const received = [];
  page.on('websocket', (socket) => socket.on('framereceived', (frame) => {
    if (typeof frame.payload === 'string')
      received.push(JSON.parse(frame.payload));
  }));

  assert.ok(server.url.endsWith('/?token=' + TOKEN));
  await page.goto(server.url);
  await page.waitForSelector('#mood:not([data-mood=""])', { timeout: 180000 });
  await page.waitForSelector('#songs li', { timeout: 60000 });
  const mood = await page.locator('#mood').getAttribute('data-mood');
  const songs = await page.locator('#songs li .title').allTextContents();
  console.log(`mood ${mood}; ${songs.length} songs: ${songs.slice(0, 3).join(', ')}`);
  assert.ok(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'].includes(mood));
  assert.ok(songs.length > 0);
  const boxes = received.filter((m) => m.type === 'analysis' && m.faces.length > 0).length;
  assert.ok(boxes > 0, 'no analyzed frame had a face');

  // Like the first song: the server records it in the library.
  await page.locator('#songs li button.liked').first().click();
  await page.waitForSelector('#songs li button.liked.done', { timeout: 30000 });

  await page.screenshot({ path: join(outDir, 'companion.png') });

  const analyses = received.filter((m) => m.type === 'analysis');
  assert.ok(received.some((m) => m.type === 'hello'));
  assert.ok(received.some((m) => m.type === 'recommendations'));
  for (const message of received)
    assert.ok(validateMessage(message), `${message.type}: ${ajv.errorsText(validateMessage.errors)}`);
  console.log(`${received.length} stream messages valid; ${analyses.length} analyses, ` +
              `median reply ${median(analyses.map((m) => m.latency_ms)).toFixed(0)} ms`);

  // The server goes away: the page says so, then reconnects by itself.
  assert.equal(await server.stop(), 0);
  await page.waitForSelector('body[data-state="disconnected"]', { timeout: 30000 });
  const notice = await page.locator('#notice-text').textContent();
  assert.match(notice, /lost/);
  await page.screenshot({ path: join(outDir, 'companion-disconnected.png') });
  server = await startServer(serverPath, ['--port', String(port), '--db', library.db, '--token', TOKEN]);
  await page.waitForSelector('body[data-state="streaming"]', { timeout: 60000 });
  assert.equal(await page.locator('#notice').isHidden(), true);

  // Restarted with a new token: the page's cookie is stale, and the new
  // link must win over it (it once answered "Wrong access token" until the
  // cookies were cleared).
  assert.equal(await server.stop(), 0);
  server = await startServer(serverPath, ['--port', String(port), '--db', library.db, '--token', NEW_TOKEN]);
  assert.ok(server.url.endsWith('/?token=' + NEW_TOKEN));
  await page.waitForSelector('body[data-state="unauthorized"]', { timeout: 60000 });
  assert.match(await page.locator('#notice-text').textContent(), /access token/);
  await page.screenshot({ path: join(outDir, 'companion-token.png') });
  await page.goto(server.url);
  assert.equal(new URL(page.url()).search, '', 'the token leaves the address bar');
  await page.waitForSelector('body[data-state="streaming"]', { timeout: 60000 });
  const cookies = await context.cookies();
  assert.deepEqual(cookies.filter((c) => c.name === 'moodtunes_token').map((c) => c.value), [NEW_TOKEN]);

  assert.deepEqual(consoleErrors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(e)), []);
  failed = false;
} finally {
  await browser.close();
  await server.stop();
  if (failed)
    console.log('server stderr:\n' + server.stderr());
}

// A denied camera: a clear message and a way to try again.
server = await startServer(serverPath, ['--port', '0', '--db', library.db]);
const denying = await chromium.launch({ executablePath: CHROMIUM, args: [...baseArgs, ...cameraArgs, '--deny-permission-prompts'] });
try {
  const page = await (await denying.newContext()).newPage();
  await page.goto(server.url);
  await page.waitForSelector('body[data-state="no-camera"]', { timeout: 30000 });
  const notice = await page.locator('#notice-text').textContent();
  assert.match(notice, /denied|camera/i);
  assert.equal(await page.locator('#notice-retry').isVisible(), true);
  await page.screenshot({ path: join(outDir, 'companion-denied.png') });
} finally {
  await denying.close();
  await server.stop();
  library.remove();
  camera.remove();
}
console.log('screenshots in ' + outDir);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN;
}
