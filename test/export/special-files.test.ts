import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withEmulator } from '../helpers/with-emulator.js';
import { createFaultProxy } from './fault-proxy.js';
import { exportFrom, readManifest, tempDir } from './helpers.js';

test('a named pipe is written in place, not replaced: its reader gets the export and it stays a FIFO', async (t) => {
  await withEmulator({ seed: 71, seedRandom: 15 }, async (emulator) => {
    const dir = await tempDir();
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const chunks: Buffer[] = [];
    const reader = new Promise<string>((resolve, reject) => {
      createReadStream(fifo).on('data', (c) => chunks.push(c as Buffer)).on('end', () => resolve(Buffer.concat(chunks).toString('utf8'))).on('error', reject);
    });
    const stats = await exportFrom(emulator, { output: fifo, format: 'csv' });
    t.true(stats.complete);
    const text = await reader;
    t.is(text.trimEnd().split('\n').length, 16, 'header and 15 rows reached the reader');
    t.true((await stat(fifo)).isFIFO());
    t.deepEqual(await readdir(dir), ['pipe'], 'no manifest, state or temporary file beside a pipe');
  });
});

test('a character device is written in place, not turned into a regular file', async (t) => {
  if (process.getuid?.() !== 0) {
    t.pass('mknod needs root; CI runs as root');
    return;
  }
  await withEmulator({ seed: 72, seedRandom: 5 }, async (emulator) => {
    const dir = await tempDir();
    const device = join(dir, 'null');
    execFileSync('mknod', [device, 'c', '1', '3']); // the same device as /dev/null, in a throwaway directory
    const stats = await exportFrom(emulator, { output: device });
    t.true(stats.complete);
    t.true((await stat(device)).isCharacterDevice());
    t.deepEqual(await readdir(dir), ['null']);
  });
});

test('stale .partial files of dead processes are removed by the next run; a live process keeps its own', async (t) => {
  await withEmulator({ seed: 73, seedRandom: 5 }, async (emulator) => {
    const dir = await tempDir();
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
    const livePid = process.ppid;
    const stale = [join(dir, `.c.csv.${deadPid}.partial`), join(dir, `.c.csv.state.${deadPid}.partial`), join(dir, `.c.csv.manifest.json.${deadPid}.partial`)];
    for (const path of stale) await writeFile(path, 'left by kill -9');
    await writeFile(join(dir, `.c.csv.${livePid}.partial`), 'still being written');
    await writeFile(join(dir, `.other.csv.${deadPid}.partial`), 'not ours');
    const stats = await exportFrom(emulator, { output: join(dir, 'c.csv') });
    t.true(stats.complete);
    t.deepEqual((await readdir(dir)).sort(), [`.c.csv.${livePid}.partial`, `.other.csv.${deadPid}.partial`, 'c.csv', 'c.csv.manifest.json', 'c.csv.state'].sort());
  });
});

test('a failed run leaves the previous complete file and its manifest as they were; its facts go to <manifest>.failed.json', async (t) => {
  await withEmulator({ seed: 74, seedRandom: 30 }, async (emulator) => {
    const dir = await tempDir();
    const out = join(dir, 'c.csv');
    await exportFrom(emulator, { output: out, pageSize: 10 });
    const data = await readFile(out);
    const manifest = await readFile(`${out}.manifest.json`);
    const proxy = await createFaultProxy(emulator.url, { failFromPage: 2, fault: 'status=500' });
    try {
      const failed = await exportFrom(emulator, { output: out, pageSize: 10, baseUrl: proxy.url });
      t.false(failed.complete);
      t.is(failed.manifestPath, `${out}.manifest.json.failed.json`);
    } finally {
      await proxy.close();
    }
    t.deepEqual(await readFile(out), data);
    t.deepEqual(await readFile(`${out}.manifest.json`), manifest);
    t.like(await readManifest(`${out}.manifest.json.failed.json`), { complete: false, status: 'failed', sha256: null });
  });
});
