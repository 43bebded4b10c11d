import test from 'ava';
import { call, withEmulator } from '../helpers/with-emulator.js';

test('POST /accounts creates an account that GET /accounts and GET /accounts/{external id} then serve; a taken external id is a 400 with exists_id', async (t) => {
  await withEmulator({ rateLimits: 'off' }, async (emulator) => {
    const created = await call(emulator, 'POST', '/accounts', { body: { name: 'Vandelay Industries', domains: ['vandelay.example'], primary_domain: 'vandelay.example', external_ids: [{ external_id: 'hs-1', label: 'hubspot' }] } });
    t.is(created.status, 200);
    t.like(created.body.data, { name: 'Vandelay Industries', domains: ['vandelay.example'], primary_domain: 'vandelay.example', external_ids: [{ external_id: 'hs-1', label: 'hubspot' }] });
    const list = await call(emulator, 'GET', '/accounts?limit=999');
    t.true(list.body.data.some((a: { id: string }) => a.id === created.body.data.id));
    t.is((await call(emulator, 'GET', '/accounts/hs-1')).body.data.id, created.body.data.id);
    const taken = await call(emulator, 'POST', '/accounts', { body: { name: 'Other', external_ids: [{ external_id: 'hs-1' }] } });
    t.is(taken.status, 400);
    t.is(taken.body.exists_id, created.body.data.id);
    const bad = await call(emulator, 'POST', '/accounts', { body: { domains: 'x' } });
    t.is(bad.status, 400);
    t.deepEqual(bad.body.errors, ['name is required', 'domains must be an array of domain names']);
  });
  // a second emulator starts from the default accounts again
  await withEmulator({ rateLimits: 'off' }, async (emulator) => {
    t.is((await call(emulator, 'GET', '/accounts?limit=999')).body.data.length, 4);
  });
});
