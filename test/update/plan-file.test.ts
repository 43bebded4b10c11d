import test from 'ava';
import { checkPlanTarget, parseMaxAge, parsePlan, planHash, sealPlan, PLAN_FORMAT, type SavedPlanBody } from '../../src/update/plan-file.js';

const body = (): SavedPlanBody => ({
  format: PLAN_FORMAT,
  version: 1,
  tool: { name: 'pylon-contacts', version: '0.1.0' },
  createdAt: '2026-11-29T12:00:00.000Z',
  command: 'update a.csv --set portal_role=admin --plan-out p.json',
  target: { host: 'api.usepylon.com', baseUrl: 'https://api.usepylon.com', organization: { id: 'org-1', name: 'Acme' } },
  source: { kind: 'file', path: '/x/a.csv', size: 10, sha256: 'ab' },
  set: { portal_role: 'admin' },
  counts: { changes: 1, removals: 0, unchanged: 0, failed: 0 },
  changes: [{ id: 'c1', email: 'a@x.com', line: 2, changes: [{ column: 'portal_role', from: 'member', to: 'admin' }] }],
  removals: [],
});

test('a sealed plan reads back; its hash does not depend on key order', (t) => {
  const plan = sealPlan(body());
  t.deepEqual(parsePlan(JSON.stringify(plan), 'p.json'), plan);
  const reordered = Object.fromEntries(Object.entries(plan).reverse());
  t.is(planHash(reordered as SavedPlanBody), plan.hash);
});

test('an edited, foreign or future-version plan is refused with its code', (t) => {
  const plan = sealPlan(body());
  const edited = JSON.stringify(plan).replace('"to":"admin"', '"to":"member"');
  t.throws(() => parsePlan(edited, 'p.json'), { code: 'PLAN_EDITED', message: /changed after it was written/ });
  const added = { ...plan, changes: [...plan.changes, { id: 'c2', changes: [{ column: 'portal_role', from: 'member', to: 'admin' }] }] };
  t.throws(() => parsePlan(JSON.stringify(added), 'p.json'), { code: 'PLAN_EDITED' });
  t.throws(() => parsePlan('id,email\n', 'p.json'), { code: 'PLAN_INVALID', message: /not JSON/ });
  t.throws(() => parsePlan('{"a":1}', 'p.json'), { code: 'PLAN_INVALID', message: /not a pylon-contacts plan/ });
  t.throws(() => parsePlan(JSON.stringify({ ...plan, version: 2 }), 'p.json'), { code: 'PLAN_INVALID', message: /version 2/ });
});

test('checkPlanTarget: another host, another organisation, older than --max-age', (t) => {
  const plan = sealPlan(body());
  const now = Date.parse(plan.createdAt) + 3_600_000;
  const here = { host: 'api.usepylon.com', baseUrl: 'https://api.usepylon.com', organization: { id: 'org-1', name: 'Acme' } };
  t.notThrows(() => checkPlanTarget(plan, here, { now, maxAgeMs: 24 * 3_600_000, path: 'p.json' }));
  t.throws(() => checkPlanTarget(plan, { ...here, host: '127.0.0.1:4010' }, { now, maxAgeMs: 1e9, path: 'p.json' }), { code: 'PLAN_OTHER_TARGET', message: /made for api\.usepylon\.com, and this run goes to 127\.0\.0\.1:4010/ });
  t.throws(() => checkPlanTarget(plan, { ...here, organization: { id: 'org-2', name: 'Globex' } }, { now, maxAgeMs: 1e9, path: 'p.json' }), { code: 'PLAN_OTHER_TARGET', message: /Globex \(org-2\)/ });
  t.throws(() => checkPlanTarget(plan, here, { now, maxAgeMs: 30 * 60_000, path: 'p.json' }), { code: 'PLAN_STALE', message: /made 60 min ago .* more than --max-age 30 min/ });
});

test('parseMaxAge: units, hours by default, garbage undefined', (t) => {
  t.is(parseMaxAge(undefined), 24 * 3_600_000);
  t.is(parseMaxAge('90m'), 90 * 60_000);
  t.is(parseMaxAge('2d'), 2 * 86_400_000);
  t.is(parseMaxAge('36'), 36 * 3_600_000);
  t.is(parseMaxAge('30s'), 30_000);
  t.is(parseMaxAge('soon'), undefined);
});

test('a plan cut short is said to be incomplete, with the command that made it when that part is left; other text is "not JSON"', (t) => {
  const plan = sealPlan({ ...body(), command: 'update admins.csv --set portal_role=admin --plan-out plan.json' });
  const text = JSON.stringify(plan, null, 1) + '\n';
  for (const cut of [text.length - 2, Math.floor(text.length / 2), 300]) {
    const error = t.throws(() => parsePlan(text.slice(0, cut), 'p.json'), { code: 'PLAN_INVALID' });
    t.true(error!.message.startsWith(`p.json is an incomplete plan file: it ends after ${cut.toLocaleString('en-US')} bytes, before its JSON does`), error!.message);
    t.regex(error!.message, /Make it again with `pylon-contacts update admins\.csv --set portal_role=admin --plan-out plan\.json` \(the command that made it\)/);
    t.notRegex(error!.message, /not JSON/);
  }
  // Cut before the command: how to make it again, without one.
  t.throws(() => parsePlan(text.slice(0, 40), 'p.json'), { message: /incomplete plan file: .*Make it again with the `update … --plan-out` command that made it/ });
  // Not a plan's start, or broken inside rather than at its end: not JSON, as before.
  t.throws(() => parsePlan('{"a":', 'p.json'), { message: /not a plan file \(not JSON\)/ });
  t.throws(() => parsePlan(text.replace('"version": 1', '"version": 1,,'), 'p.json'), { message: /not a plan file \(not JSON\)/ });
});

test('PLAN_STALE shows --max-age as given and the age of a young plan in seconds, never rounded to 0 or 1 min', (t) => {
  const now = Date.parse('2026-01-01T12:00:40Z');
  const plan = { target: { host: 'h' }, createdAt: '2026-01-01T12:00:00Z' } as unknown as Parameters<typeof checkPlanTarget>[0];
  t.throws(() => checkPlanTarget(plan, { host: 'h', baseUrl: 'https://h' }, { now, maxAgeMs: 30_000, maxAge: '30s', path: 'p.json' }), { code: 'PLAN_STALE', message: /made 40 s ago .*, more than --max-age 30s\. / });
  t.throws(() => checkPlanTarget(plan, { host: 'h', baseUrl: 'https://h' }, { now, maxAgeMs: 360, maxAge: '0.0001', path: 'p.json' }), { message: /more than --max-age 0\.0001\. / });
});
