// Every documented endpoint and error of data/moodtunes-api.json, called on a
// real moodtunes-server, each reply checked against the OpenAPI schema (ajv);
// and the command line's exit codes.
//   node api.mjs API-JSON MOODTUNES-SERVER MAKE-TEST-LIBRARY
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { makeLibrary, startServer } from './server-process.mjs';

const [apiPath, serverPath, makeTestLibrary] = process.argv.slice(2);
const api = JSON.parse(readFileSync(apiPath, 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema(api, 'api');

const TOKEN = 'feedfacefeedfacefeedfacefeedface';
// What an earlier server, with another token, left in a page's cookie.
const OLD_TOKEN = 'deadbeefdeadbeefdeadbeefdeadbeef';
const bearer = { Authorization: 'Bearer ' + TOKEN };
const covered = new Set();
let checks = 0;

function schemaFor(path, method, status) {
  assert.ok(api.paths[path], `${path} is not documented`);
  const operation = api.paths[path][method.toLowerCase()];
  // An undocumented method on a documented path: 405 with the error shape.
  if (!operation) {
    assert.equal(status, 405, `${method} ${path} is not documented`);
    return { $ref: '#/components/schemas/Error' };
  }
  const response = operation.responses[String(status)];
  assert.ok(response, `${method} ${path} answered ${status}, which is not documented`);
  return response.content?.['application/json']?.schema;
}

// The token is needed by default, on loopback too: sent unless auth is false.
// @path is the documented one; @at the one called when it has parameters.
async function call(base, method, path, { at = path, query = '', body, headers = {}, auth = true, expect }) {
  const sent = auth ? { ...bearer, ...headers } : headers;
  const response = await fetch(base + at + query, { method, body, headers: sent, redirect: 'manual' });
  const text = await response.text();
  assert.equal(response.status, expect, `${method} ${at}${query}: ${response.status} ${text}`);
  assert.equal(response.headers.get('access-control-allow-origin'), null);
  const schema = schemaFor(path, method, response.status);
  if (method === 'HEAD') {
    assert.equal(text, '', 'HEAD has no body');
    covered.add(`${method} ${path} ${response.status}`);
    return response;
  }
  if (schema) {
    assert.match(response.headers.get('content-type'), /^application\/json/);
    const validate = ajv.compile({ $ref: 'api' + schema.$ref });
    const json = JSON.parse(text);
    assert.ok(validate(json), `${method} ${path}${query} (${expect}): ${ajv.errorsText(validate.errors)}\n${text}`);
    checks++;
    covered.add(`${method} ${path} ${response.status}`);
    return json;
  }
  covered.add(`${method} ${path} ${response.status}`);
  return response;
}

const library = makeLibrary(makeTestLibrary, 4);
const server = await startServer(serverPath, ['--port', '0', '--db', library.db, '--workers', '1', '--token', TOKEN]);
const base = server.origin;
const json = { 'Content-Type': 'application/json' };
try {
  // The printed address carries the token: it is needed by default.
  assert.ok(server.url.endsWith('/?token=' + TOKEN), server.url);
  const status = await call(base, 'GET', '/api/v1/status', { expect: 200 });
  assert.equal(status.library.songs, 28);
  assert.equal(status.token_required, true);
  await call(base, 'POST', '/api/v1/status', { body: '{}', headers: json, expect: 405 });
  await call(base, 'GET', '/api/v1/status', { headers: { Origin: 'http://evil.example' }, expect: 403 });

  const mood = await call(base, 'GET', '/api/v1/mood', { expect: 200 });
  assert.equal(mood.mood, null);
  await call(base, 'DELETE', '/api/v1/mood', { expect: 405 });

  const songs = await call(base, 'GET', '/api/v1/songs', { query: '?mood=sad&limit=3', expect: 200 });
  assert.equal(songs.songs.length, 3);
  assert.ok(songs.songs.every((s) => s.mood === 'sad'));
  const all = await call(base, 'GET', '/api/v1/songs', { expect: 200 });
  assert.equal(all.songs.length, 20);
  // Every other song has its sound analysed: both forms were validated.
  assert.ok(all.songs.some((s) => typeof s.valence === 'number' && typeof s.tempo === 'number'));
  assert.ok(all.songs.some((s) => s.valence === null && s.arousal === null && s.tempo === null));
  assert.deepEqual(status.library.audio, { analysed: 14, failed: 0, pending: 14 });
  await call(base, 'GET', '/api/v1/songs', { query: '?mood=bored', expect: 400 });
  await call(base, 'GET', '/api/v1/songs', { query: '?limit=100000', expect: 400 });
  await call(base, 'PUT', '/api/v1/songs', { body: 'x', expect: 405 });

  const lift = await call(base, 'GET', '/api/v1/recommendations', { query: '?mood=sad&strategy=lift&limit=5', expect: 200 });
  assert.equal(lift.strategy, 'lift');
  assert.equal(lift.songs.length, 5);
  await call(base, 'GET', '/api/v1/recommendations', { query: '?mood=sad&strategy=random', expect: 400 });
  await call(base, 'GET', '/api/v1/recommendations', { expect: 400 });
  await call(base, 'POST', '/api/v1/recommendations', { body: '{}', headers: json, expect: 405 });

  const id = songs.songs[0].id;
  const feedback = await call(base, 'POST', '/api/v1/feedback',
    { body: JSON.stringify({ song: id, feedback: 'disliked', mood: 'sad' }), headers: json, expect: 200 });
  assert.equal(feedback.count, 1);
  await call(base, 'POST', '/api/v1/feedback',
    { body: JSON.stringify({ song: 424242, feedback: 'liked' }), headers: json, expect: 404 });
  await call(base, 'POST', '/api/v1/feedback', { body: '{"song":', headers: json, expect: 400 });
  await call(base, 'POST', '/api/v1/feedback', { body: 'song=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, expect: 415 });
  await call(base, 'POST', '/api/v1/feedback', { body: 'x'.repeat(100000), headers: json, expect: 413 });
  await call(base, 'GET', '/api/v1/feedback', { expect: 405 });

  await call(base, 'GET', '/api/v1/stream', { expect: 400 });
  await call(base, 'POST', '/api/v1/stream', { body: '{}', headers: json, expect: 405 });

  // Not documented paths are 404 with the same error shape.
  const missing = await fetch(base + '/api/v1/nope', { headers: bearer });
  assert.equal(missing.status, 404);
  assert.ok(ajv.compile({ $ref: 'api#/components/schemas/Error' })(await missing.json()));
} finally {
  assert.equal(await server.stop(), 0, 'the server exits 0 on SIGTERM');
}

// The token, on loopback by default (--require-token says so too): every
// request needs it.
const guarded = await startServer(serverPath, ['--port', '0', '--db', library.db, '--workers', '1',
                                               '--require-token', '--token', TOKEN]);
try {
  assert.ok(guarded.url.endsWith('/?token=' + TOKEN));
  for (const path of ['/api/v1/status', '/api/v1/mood', '/api/v1/songs', '/api/v1/recommendations'])
    await call(guarded.origin, 'GET', path, { auth: false, expect: 401 });
  await call(guarded.origin, 'POST', '/api/v1/feedback', { body: '{}', headers: json, auth: false, expect: 401 });
  await call(guarded.origin, 'GET', '/api/v1/stream', { auth: false, expect: 401 });
  await call(guarded.origin, 'GET', '/api/v1/status', { headers: { Authorization: 'Bearer ' + OLD_TOKEN }, auth: false, expect: 401 });
  await call(guarded.origin, 'GET', '/api/v1/status', { expect: 200 });
  const page = await fetch(guarded.url, { redirect: 'manual' });
  assert.equal(page.status, 303);
  const cookie = page.headers.get('set-cookie').split(';')[0];
  assert.equal(cookie, 'moodtunes_token=' + TOKEN);
  await call(guarded.origin, 'GET', '/api/v1/mood', { headers: { Cookie: cookie }, auth: false, expect: 200 });

  // A restarted server's new link wins over the old server's cookie.
  const stale = { Cookie: 'moodtunes_token=' + OLD_TOKEN };
  await call(guarded.origin, 'GET', '/api/v1/mood', { headers: stale, auth: false, expect: 401 });
  await call(guarded.origin, 'GET', '/api/v1/mood', { query: '?token=' + TOKEN, headers: stale, auth: false, expect: 200 });
  const relogin = await fetch(guarded.url, { headers: stale, redirect: 'manual' });
  assert.equal(relogin.status, 303);
  assert.equal(relogin.headers.get('set-cookie').split(';')[0], 'moodtunes_token=' + TOKEN);
  // A ?token= that did not match never reaches a header.
  const injected = await fetch(guarded.origin + '/?token=' + encodeURIComponent('x; Domain=evil.example'),
                               { headers: { Cookie: cookie }, redirect: 'manual' });
  assert.equal(injected.status, 200);
  assert.equal(injected.headers.get('set-cookie'), null);
} finally {
  await guarded.stop();
}

// Turned off explicitly, on loopback only: no token needed, none printed.
const unguarded = await startServer(serverPath, ['--port', '0', '--db', library.db, '--workers', '1', '--no-require-token']);
try {
  assert.equal(unguarded.url, unguarded.origin + '/');
  const status = await call(unguarded.origin, 'GET', '/api/v1/status', { auth: false, expect: 200 });
  assert.equal(status.token_required, false);
} finally {
  await unguarded.stop();
}

// A song's audio, from a library of real files: the whole file, ranges,
// HEAD, and every error in the API's shape.
const audioLibrary = makeLibrary(makeTestLibrary, 2, { audio: true });
const player = await startServer(serverPath, ['--port', '0', '--db', audioLibrary.db, '--workers', '1', '--token', TOKEN]);
try {
  const AUDIO = '/api/v1/songs/{id}/audio';
  const at = (id) => `/api/v1/songs/${id}/audio`;
  const get = (id, headers = {}) => fetch(player.origin + at(id), { headers: { ...bearer, ...headers } });
  const { songs } = await call(player.origin, 'GET', '/api/v1/songs', { query: '?limit=500', expect: 200 });
  const id = Object.fromEntries(songs.map((song) => [song.title, song.id]));
  const ogg = readFileSync(join(audioLibrary.dir, 'audio', 'happy-0.ogg'));
  const mp3 = readFileSync(join(audioLibrary.dir, 'audio', 'happy-1.mp3'));

  // The whole file, its type read from its bytes.
  for (const [title, bytes, type] of [['Happy song 1', ogg, 'audio/ogg'], ['Happy song 2', mp3, 'audio/mpeg']]) {
    const response = await get(id[title]);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), type);
    assert.equal(response.headers.get('accept-ranges'), 'bytes');
    assert.equal(response.headers.get('content-length'), String(bytes.length));
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(bytes), title + ': the bytes of its file');
  }
  await call(player.origin, 'GET', AUDIO, { at: at(id['Happy song 1']), expect: 200 });

  // One range (206), a suffix, the end clamped; backwards or beyond is 416.
  const ranges = [['bytes=100-199', 100, 199], ['bytes=-500', ogg.length - 500, ogg.length - 1],
                  [`bytes=${ogg.length - 10}-99999999999999999999`, ogg.length - 10, ogg.length - 1], ['bytes=0-', 0, ogg.length - 1]];
  for (const [range, first, last] of ranges) {
    const response = await get(id['Happy song 1'], { Range: range });
    assert.equal(response.status, 206, range);
    assert.equal(response.headers.get('content-range'), `bytes ${first}-${last}/${ogg.length}`, range);
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(ogg.subarray(first, last + 1)), range);
  }
  await call(player.origin, 'GET', AUDIO, { at: at(id['Happy song 1']), headers: { Range: 'bytes=0-0' }, expect: 206 });
  // Several ranges: the whole file; an If-Range that no longer matches too.
  assert.equal((await get(id['Happy song 1'], { Range: 'bytes=0-1,5-9' })).status, 200);
  const etag = (await get(id['Happy song 1'])).headers.get('etag');
  assert.equal((await get(id['Happy song 1'], { Range: 'bytes=5-9', 'If-Range': etag })).status, 206);
  assert.equal((await get(id['Happy song 1'], { Range: 'bytes=5-9', 'If-Range': '"older"' })).status, 200);
  for (const range of ['bytes=100-50', `bytes=${ogg.length}-`, 'bytes=-0', 'bytes=x-1']) {
    const response = await call(player.origin, 'GET', AUDIO, { at: at(id['Happy song 1']), headers: { Range: range }, expect: 416 });
    assert.equal(response.error.status, 416);
  }
  const refused = await get(id['Happy song 1'], { Range: 'bytes=100-50' });
  assert.equal(refused.headers.get('content-range'), `bytes */${ogg.length}`);

  const head = await call(player.origin, 'HEAD', AUDIO, { at: at(id['Happy song 2']), expect: 200 });
  assert.equal(head.headers.get('content-length'), String(mp3.length));
  assert.equal(head.headers.get('content-type'), 'audio/mpeg');
  await call(player.origin, 'HEAD', AUDIO, { at: at(id['Happy song 2']), headers: { Range: 'bytes=10-' }, expect: 206 });
  await call(player.origin, 'HEAD', AUDIO, { at: at(424242), expect: 404 });

  // Never a path from the request; only a library song, and a clear error.
  const expectError = async (path, status, pattern, options = {}) => {
    const reply = await call(player.origin, 'GET', AUDIO, { at: path, expect: status, ...options });
    assert.match(reply.error.message, pattern);
  };
  await expectError(at(424242), 404, /No song with id 424242/);
  await expectError(at('..%2F..%2Fetc%2Fpasswd'), 400, /not allowed/);
  await expectError(at('abc'), 400, /whole number/);
  await expectError(at(0), 400, /whole number/);
  await expectError(at('-1'), 400, /whole number/);
  await expectError(at('99999999999999999999'), 400, /whole number/);
  await expectError(at(id['Gone song']), 410, /is gone/);
  await expectError(at(id['Missing song']), 410, /missing since/);
  await expectError(at(id['Windows Media song']), 415, /Windows Media Audio/);
  await expectError(at(id['Happy song 1']), 401, /access token/, { auth: false });
  await expectError(at(id['Happy song 1']), 401, /Wrong access token/, { auth: false, headers: { Authorization: 'Bearer ' + OLD_TOKEN } });
  await expectError(at(id['Happy song 1']), 403, /Cross-origin/, { headers: { Origin: 'http://evil.example' } });
  await call(player.origin, 'POST', AUDIO, { at: at(id['Happy song 1']), body: '{}', headers: json, expect: 405 });
  // The page's cookie is enough (the <audio> element sends nothing else).
  const cookie = { Cookie: 'moodtunes_token=' + TOKEN };
  await call(player.origin, 'GET', AUDIO, { at: at(id['Happy song 1']), headers: cookie, auth: false, expect: 200 });
} finally {
  await player.stop();
  audioLibrary.remove();
}

// The command line: a taken port is a clear error (exit 1), bad usage exit 2.
const first = await startServer(serverPath, ['--port', '0', '--db', library.db, '--workers', '1']);
try {
  await assert.rejects(startServer(serverPath, ['--port', String(first.port), '--db', library.db]),
    (error) => error.code === 1 && /already in use/.test(error.stderr));
} finally {
  await first.stop();
}
await assert.rejects(startServer(serverPath, ['--port', '70000']), (error) => error.code === 2);
await assert.rejects(startServer(serverPath, ['--require-token', '--no-require-token']), (error) => error.code === 2);
await assert.rejects(startServer(serverPath, ['--port', '0', '--db', library.db, '--token', 'not a cookie-safe token;']),
  (error) => error.code === 1 && /token may hold only/.test(error.stderr));
await assert.rejects(startServer(serverPath, ['--strategy', 'shuffle']), (error) => error.code === 2);
await assert.rejects(startServer(serverPath, ['--port', '0', '--db', library.db, '--listen', 'not-an-address']),
  (error) => error.code === 1 && /not an IP address/.test(error.stderr));
library.remove();

// Every documented path and method was called at least once.
for (const [path, methods] of Object.entries(api.paths))
  for (const method of Object.keys(methods))
    assert.ok([...covered].some((c) => c.startsWith(`${method.toUpperCase()} ${path} `)), `${method} ${path} not exercised`);
console.log(`${checks} replies valid against ${apiPath}; ${covered.size} method/path/status combinations`);
