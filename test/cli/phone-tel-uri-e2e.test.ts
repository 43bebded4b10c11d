/**
 * RFC 3966 tel URIs (`tel:+14155550142`, `tel:+1-415-555-0142;ext=204`), as CRMs and vCards write numbers, are read as
 * the numbers they hold: before, a migration dropped them as holding letters and a plain import failed the row. The
 * `;ext=` of a migration is an extension (noted, Pylon stores digits only), as `x204` is; a plain import refuses it,
 * as it refuses `x204`. Real CLI child processes against the emulator; the stored contacts are checked.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { startEmulator, tempDir } from '../helpers/cli.js';
import { importFile } from '../helpers/corpus.js';

test('a migration reads tel URIs as their numbers, ;ext= as an extension', async (t) => {
  const emulator = await startEmulator(t);
  const input = join(tempDir(t), 'intercom.csv');
  writeFileSync(input, 'Name,Email,Phone,User ID\nPia,pia@tel.example,tel:+1-415-555-0142;ext=204,u1\nLeo,leo@tel.example,tel:+14155550143,u2\n');
  const run = await importFile(t, emulator, input, 'intercom');
  t.like(run.stats, { created: 2, failed: 0 });
  t.deepEqual(emulator.store.findByEmail('pia@tel.example')?.phone_numbers, ['14155550142']);
  t.deepEqual(emulator.store.findByEmail('leo@tel.example')?.phone_numbers, ['14155550143']);
  const pia = run.results.find((r) => r.email === 'pia@tel.example');
  t.regex(pia?._message ?? '', /extension 204 of "tel:\+1-415-555-0142;ext=204" dropped/);
  t.notRegex(run.results.map((r) => r._message).join('\n'), /letters|phone number dropped/);
});

test('a plain import reads a tel URI as its number; one with ;ext= fails the row as x204 does', async (t) => {
  const emulator = await startEmulator(t);
  const input = join(tempDir(t), 'plain.csv');
  writeFileSync(
    input,
    'email,name,phone_numbers,primary_phone_number\n' +
      'ana@tel.example,Ana,tel:+14155550142;tel:+1-415-555-0143,tel:+1-415-555-0143\n' +
      'bo@tel.example,Bo,tel:+1-415-555-0144;ext=204,\n',
  );
  const run = await importFile(t, emulator, input, []);
  t.like(run.stats, { created: 1, failed: 1 });
  const ana = emulator.store.findByEmail('ana@tel.example');
  t.deepEqual(ana?.phone_numbers, ['14155550142', '14155550143']);
  t.is(ana?.primary_phone_number, '14155550143');
  t.deepEqual(run.errors.map((e) => [e._line, e._error_code, e.phone_numbers]), [['3', 'ROW_INVALID_PHONE', 'tel:+1-415-555-0144;ext=204']]);
  t.is(emulator.store.findByEmail('bo@tel.example'), undefined);
});
