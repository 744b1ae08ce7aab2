// Every documented endpoint and error of data/moodtunes-api.json, called on a
// real moodtunes-server, each reply checked against the OpenAPI schema (ajv);
// and the command line's exit codes.
//   node api.mjs API-JSON MOODTUNES-SERVER MAKE-TEST-LIBRARY
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
async function call(base, method, path, { query = '', body, headers = {}, auth = true, expect }) {
  const sent = auth ? { ...bearer, ...headers } : headers;
  const response = await fetch(base + path + query, { method, body, headers: sent, redirect: 'manual' });
  const text = await response.text();
  assert.equal(response.status, expect, `${method} ${path}${query}: ${response.status} ${text}`);
  assert.equal(response.headers.get('access-control-allow-origin'), null);
  const schema = schemaFor(path, method, response.status);
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
  return null;
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
