/**
 * SearchVisibility measures how long search takes to show a contact just
 * created. A search that waited for its turn under the client's own pacing
 * (black-box testing: every run with search pacing said "search shows a new
 * contact only after about 3.1 s" on a server without lag) is not lag: a
 * contact the first search shows has none. A server that does lag is still
 * measured.
 */
import test, { type ExecutionContext } from 'ava';
import { createEmulator, type EmulatorOptionsInput } from '../../src/emulator/index.js';
import { createPylonClient } from '../../src/pylon/client.js';
import { SearchVisibility } from '../../src/import/search-visibility.js';
import { UNPACED } from '../pylon/setup.js';

async function measured(t: ExecutionContext, emulatorOptions: EmulatorOptionsInput, searchesPerWindow: number, answerLateMs = 0) {
  const emulator = await createEmulator({ rateLimits: 'off', ...emulatorOptions });
  // One search a window: the probe's search waits for its turn after the one sent before it.
  const client = createPylonClient({ baseUrl: emulator.url, token: emulator.token, windowMs: 1000, timeoutMs: 30_000, rates: { ...UNPACED, search: searchesPerWindow } });
  t.teardown(async () => {
    client.close();
    await emulator.close();
  });
  await client.searchContacts({ filter: { field: 'email', operator: 'equals', value: 'nobody@visibility.example' } });
  const sentAt = Date.now();
  const { data: created } = await client.createContact({ name: 'Vis Ible', email: 'vis@visibility.example' });
  // The create's answer reaching the run late (a slow network, a busy machine): the wait stands for that delay.
  if (answerLateMs > 0) await new Promise((resolve) => setTimeout(resolve, answerLateMs));
  const notes: string[] = [];
  const visibility = new SearchVisibility(client, undefined, (note) => notes.push(note));
  await visibility.measure('vis@visibility.example', created.id, sentAt);
  return { lag: visibility.lagMs, notes };
}

test('a contact the first search shows has no lag, though that search waited for the client\'s pacing', async (t) => {
  const { lag, notes } = await measured(t, {}, 1);
  t.is(lag, 0);
  t.deepEqual(notes, [], 'no note about a lag');
});

test('a server whose search lags is measured, and the note says so', async (t) => {
  const { lag, notes } = await measured(t, { searchLagMs: 700 }, 1000);
  t.true(lag !== undefined && lag > 0, `lag ${lag}`);
  t.regex(notes[0] ?? '', /^search shows a new contact only after about \d+\.\d s/);
});

test('the lag is timed from the create\'s send: an answer that came late does not shorten it', async (t) => {
  // The emulator shows the contact 3 s after it wrote it, and it wrote it after `sentAt`: at least 3 s from the send, whatever the load.
  // Timed from the late answer (1.5 s after the send), it came out about 1.5 s.
  const { lag } = await measured(t, { searchLagMs: 3000 }, 1000, 1500);
  t.true(lag !== undefined && lag >= 3000, `lag ${lag}`);
});
