// Starts moodtunes-server on a free loopback port for the Node tests and
// stops it again.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// With audio, every song is a real file (in dir/audio) and three broken
// songs are added: "Gone song", "Missing song", "Windows Media song".
export function makeLibrary(makeTestLibrary, perMood = 5, { audio = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mt-server-node-'));
  const db = join(dir, 'library.db');
  const args = [db, String(perMood)];
  if (audio) {
    mkdirSync(join(dir, 'audio'));
    args.push(join(dir, 'audio'));
  }
  const result = spawnSync(makeTestLibrary, args, { stdio: 'inherit' });
  if (result.status !== 0)
    throw new Error('make-test-library failed');
  return { dir, db, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// Resolves with { url, port, process, stop() } once the server prints its address.
export function startServer(serverPath, args, { timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(serverPath, ['--no-settings', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error('server did not start: ' + err)), timeoutMs);
    child.stderr.on('data', (data) => { err += data; });
    child.stdout.on('data', (data) => {
      out += data;
      const match = out.match(/listening on (\S+)/);
      if (match) {
        clearTimeout(timer);
        const url = new URL(match[1]);
        resolve({
          url: match[1],
          origin: url.origin,
          port: Number(url.port),
          process: child,
          stderr: () => err,
          stop: () => new Promise((done) => {
            if (child.exitCode !== null)
              return done(child.exitCode);
            child.once('exit', (code, signal) => done(code ?? signal));
            child.kill('SIGTERM');
          }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error('server exited with ' + code + ': ' + err), { code, stderr: err }));
    });
  });
}
