// The companion page plays the music, in a real browser: Debian's chromium,
// headless, with the fake camera and a library of real tagged audio files
// (make-test-library with an audio folder).  Checks that Play starts a song
// of "Songs for your mood" (the <audio> element reaches `playing` and its
// time advances, the page says which song plays), that the audio requests
// are answered 206 with Content-Range (the page's cookie is their only
// token) and a seek plays on, that Dislike skips to the next song and a song
// heard to its end moves on, that each of these reaches the library's
// database as the desktop player records it (disliked + skipped, played),
// that the audio endpoint refuses another id, a path, a missing file, a
// format browsers do not play and a wrong token with the right error, and
// that the mood timeline fills with its summary.  Screenshots (light and
// dark) in OUT-DIR.
//   node browser-player.mjs MOODTUNES-SERVER MAKE-TEST-LIBRARY OUT-DIR
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, baseArgs, collectErrors, makeFakeCamera, requireBrowser } from './browser-support.mjs';
import { makeLibrary, startServer } from './server-process.mjs';

const [serverPath, makeTestLibrary, outDir] = process.argv.slice(2);
const clip = requireBrowser();
mkdirSync(outDir, { recursive: true });

const TOKEN = 'a11a11a11a11a11a11a11a11a11a11a1';
const FEEDBACK = ['played', 'skipped', 'liked', 'disliked'];   // the library's event kinds

// The library's feedback events, read from its database (Debian's python3
// and its sqlite3 module; the server keeps the database open in WAL mode).
function events(db) {
  const script = 'import json, sqlite3, sys\n' +
    'c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)\n' +
    'print(json.dumps(c.execute("SELECT song_id, kind FROM events ORDER BY id").fetchall()))\n';
  const result = spawnSync('/usr/bin/python3', ['-c', script, db], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout).map(([song, kind]) => ({ song, feedback: FEEDBACK[kind] }));
}

// What the player shows and its <audio> element holds, for a failed wait's
// message: which state it is stuck in and why.
function playerState(page) {
  return page.evaluate(() => {
    const audio = document.getElementById('audio');
    return JSON.stringify({
      player: document.body.dataset.player,
      nowPlaying: document.getElementById('now-playing').textContent,
      error: document.getElementById('player-error').hidden ? null : document.getElementById('player-error').textContent,
      src: audio.getAttribute('src'), paused: audio.paused, ended: audio.ended,
      currentTime: audio.currentTime, readyState: audio.readyState, networkState: audio.networkState,
      mediaError: audio.error && audio.error.message,
      list: [...document.querySelectorAll('#songs li .title')].map((e) => e.textContent),
    });
  });
}

// Waits for the page to say a song plays; says what it shows instead.
async function waitForPlaying(page, what, timeout = 30000) {
  try {
    await page.waitForSelector('body[data-player="playing"]', { timeout });
  } catch (error) {
    throw new Error(`${what}: not playing after ${timeout} ms: ${await playerState(page)}`);
  }
}

async function waitFor(what, check, timeoutMs = 30000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value)
      return value;
    if (Date.now() > end)
      throw new Error('timed out waiting for ' + what);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const camera = makeFakeCamera(clip);
const library = makeLibrary(makeTestLibrary, 2, { audio: true });
const server = await startServer(serverPath, ['--port', '0', '--db', library.db, '--token', TOKEN]);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...baseArgs, ...camera.args, '--use-fake-ui-for-media-stream'] });
let failed = true;
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const consoleErrors = collectErrors(page);
  // What the <audio> element asked for and got.
  const audioResponses = [];
  page.on('response', async (response) => {
    if (!/\/api\/v1\/songs\/\d+\/audio$/.test(new URL(response.url()).pathname))
      return;
    const request = response.request();
    audioResponses.push({
      url: response.url(), status: response.status(), range: (await request.allHeaders()).range,
      contentRange: response.headers()['content-range'], type: response.headers()['content-type'],
    });
  });
  const posted = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/api/v1/feedback') && request.method() === 'POST')
      posted.push(JSON.parse(request.postData()));
  });

  await page.goto(server.url);
  assert.equal(new URL(page.url()).search, '', 'the token leaves the address bar for the cookie');
  await page.waitForSelector('#songs li', { timeout: 180000 });
  assert.match(await page.locator('#player .hint').textContent(), /plays here, in this browser/);
  const listed = await page.locator('#songs li .title').allTextContents();
  console.log(`${listed.length} songs for the mood: ${listed.slice(0, 3).join(', ')}`);

  // Play, by its accessible name: the first song of the list starts.
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await waitForPlaying(page, 'the first song');
  const audio = page.locator('#audio');
  const first = await page.locator('#now-playing').textContent();
  assert.match(first, new RegExp('^Playing “' + listed[0] + '”'));
  assert.equal(await page.locator('#songs li[aria-current="true"] .title').textContent(), listed[0]);
  const t0 = await audio.evaluate((element) => element.currentTime);
  await page.waitForTimeout(1500);
  const t1 = await audio.evaluate((element) => element.currentTime);
  console.log(`currentTime ${t0.toFixed(2)} -> ${t1.toFixed(2)} s`);
  assert.ok(t1 > t0 + 0.5, 'the song plays on');
  assert.equal(await page.getByRole('button', { name: 'Pause' }).count(), 1);

  // Its file came as a range (Chromium asks bytes=0- first): 206, ranged.
  const ranged = audioResponses.find((r) => r.status === 206);
  assert.ok(ranged, 'an audio request answered 206: ' + JSON.stringify(audioResponses));
  assert.match(ranged.range, /^bytes=\d+-\d*$/);
  assert.match(ranged.contentRange, /^bytes \d+-\d+\/\d+$/);
  assert.match(ranged.type, /^audio\/(ogg|mpeg)$/);

  // Pause and play again from the keyboard.
  await page.locator('#play').focus();
  await page.keyboard.press('Space');
  await page.waitForSelector('body[data-player="paused"]');
  await page.keyboard.press('Space');
  await waitForPlaying(page, 'play again');

  // Dislike, before the song's middle: disliked and skipped, and the next
  // song (of the list shown now: the mood may have moved on) plays.
  const firstId = Number(await page.locator('#songs li[aria-current="true"]').getAttribute('data-song-id'));
  assert.equal(await page.locator('#dislike-playing').getAttribute('aria-label'), 'Dislike ' + listed[0]);
  await page.locator('#dislike-playing').click();
  await waitFor('the next song', async () => (await page.locator('#now-playing').textContent()) !== first);
  const second = await page.locator('#now-playing').textContent();
  const shown = await page.locator('#songs li .title').allTextContents();
  assert.ok(shown.some((title) => second.startsWith('Playing “' + title + '”')), second + ' is in ' + shown);
  assert.ok(!second.startsWith('Playing “' + listed[0] + '”'));
  await waitForPlaying(page, 'the second song');
  const secondId = Number(await page.locator('#songs li[aria-current="true"]').getAttribute('data-song-id'));

  // Seek past its middle with the position slider (arrow keys move it
  // too): it plays on from there, and to its end: played, and the next
  // song starts.
  await page.locator('#position').evaluate((slider) => {
    slider.value = '5';
    slider.dispatchEvent(new Event('input'));
    slider.dispatchEvent(new Event('change'));
  });
  await waitFor('the seek', () => audio.evaluate((element) => element.currentTime >= 5));
  await waitFor('the third song', async () => (await page.locator('#now-playing').textContent()) !== second, 20000);
  await waitForPlaying(page, 'the third song');

  // A range from the middle of a file, with the page's cookie as its
  // only token.
  const direct = await page.evaluate(async (url) => {
    const response = await fetch(url, { headers: { Range: 'bytes=100-199' } });
    return { status: response.status, range: response.headers.get('content-range'), bytes: (await response.arrayBuffer()).byteLength };
  }, ranged.url);
  assert.equal(direct.status, 206);
  assert.match(direct.range, /^bytes 100-199\/\d+$/);
  assert.equal(direct.bytes, 100);

  // The library has them, as the desktop player records them.
  const expected = [{ song: firstId, feedback: 'disliked' }, { song: firstId, feedback: 'skipped' },
                    { song: secondId, feedback: 'played' }];
  const recorded = await waitFor('the feedback in the library', () => {
    const all = events(library.db);
    return expected.every((e) => all.some((r) => r.song === e.song && r.feedback === e.feedback)) && all;
  });
  console.log('recorded: ' + JSON.stringify(recorded));
  assert.deepEqual(posted.map((p) => p.feedback), ['disliked', 'skipped', 'played']);
  assert.ok(posted.every((p) => typeof p.mood === 'string'), 'feedback under the list\'s mood');

  // The audio endpoint's refusals, from the page (with its cookie).
  const { songs } = await page.evaluate(() => fetch('/api/v1/songs?limit=500').then((r) => r.json()));
  const id = Object.fromEntries(songs.map((song) => [song.title, song.id]));
  const refusals = await page.evaluate(async (paths) => {
    const out = {};
    for (const [name, path] of Object.entries(paths)) {
      const response = await fetch(path);
      out[name] = { status: response.status, message: (await response.json()).error.message };
    }
    return out;
  }, {
    otherId: '/api/v1/songs/424242/audio',
    path: '/api/v1/songs/..%2F..%2Fetc%2Fpasswd/audio',
    gone: `/api/v1/songs/${id['Gone song']}/audio`,
    missing: `/api/v1/songs/${id['Missing song']}/audio`,
    wma: `/api/v1/songs/${id['Windows Media song']}/audio`,
  });
  console.log('refusals: ' + JSON.stringify(refusals));
  assert.equal(refusals.otherId.status, 404);
  assert.equal(refusals.path.status, 400);
  assert.equal(refusals.gone.status, 410);
  assert.equal(refusals.missing.status, 410);
  assert.equal(refusals.wma.status, 415);
  assert.match(refusals.wma.message, /Windows Media Audio/);
  // Without the cookie, or with a wrong token: 401.
  const stranger = await browser.newContext();
  const anonymous = await stranger.request.get(ranged.url);
  assert.equal(anonymous.status(), 401);
  const wrong = await stranger.request.get(ranged.url, { headers: { Authorization: 'Bearer wrongwrongwrongwrongwrong' } });
  assert.equal(wrong.status(), 401);
  assert.match((await wrong.json()).error.message, /Wrong access token/);
  await stranger.close();

  // The timeline: drawn, and summed up in words.
  const summary = await waitFor('the timeline summary', async () => {
    const text = await page.locator('#timeline-summary').textContent();
    return /^Mostly \w+ \(\d+%\) over the last/.test(text) && / played/.test(text) && text;
  });
  console.log('timeline: ' + summary);
  assert.match(summary, /1 disliked/);
  const inked = await page.locator('#timeline').evaluate((canvas) => {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4)
      n += data[i] > 0;
    return n;
  });
  assert.ok(inked > 2000, 'the timeline has lines: ' + inked + ' pixels');

  await page.screenshot({ path: join(outDir, 'companion-player.png') });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(1200);
  await page.screenshot({ path: join(outDir, 'companion-player-dark.png') });

  assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource/.test(e)), []);
  failed = false;
} finally {
  await browser.close();
  await server.stop();
  if (failed)
    console.log('server stderr:\n' + server.stderr());
  library.remove();
  camera.remove();
}
console.log('screenshots in ' + outDir);
