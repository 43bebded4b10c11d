import test from 'ava';
import { describeSeconds, pacedSeconds, SPEC_RATES } from '../../src/rates.js';
import { applyCalls, planTotals, renderPlanReview, reviewPlan } from '../../src/update/plan-review.js';
import { sealPlan, type PlannedContact, type SavedPlanBody } from '../../src/update/plan-file.js';

/** A plan of `update --where 'email~@acme.com' --set portal_role=admin`, made an hour before the review's `now`. */
function planBody(parts: Pick<SavedPlanBody, 'counts' | 'changes' | 'removals'> & Partial<SavedPlanBody>): SavedPlanBody {
  return {
    format: 'pylon-contacts-plan',
    version: 1,
    tool: { name: 'pylon-contacts', version: '0.0.0' },
    createdAt: '2026-01-01T00:00:00.000Z',
    command: 'update',
    target: { host: 'example.test', baseUrl: 'https://example.test' },
    source: { kind: 'where', filter: { field: 'email', operator: 'string_contains', value: '@acme.com' } as never },
    set: { portal_role: 'admin' },
    ...parts,
  };
}

test('12,119 changes at the default pace: the PATCH bucket decides, 12,119 s ≈ 3 h 22 min', (t) => {
  const calls = applyCalls(12_119, 100);
  t.deepEqual(calls, { me: 1, customFields: 1, search: 122, get: 12_119, patch: 12_119 });
  t.is(pacedSeconds(calls, SPEC_RATES), 12_119);
  t.is(describeSeconds(pacedSeconds(calls, SPEC_RATES)), '3 h 22 min');
  // Reads alone at 20 searches a minute: 122 searches are 366 s.
  t.is(pacedSeconds({ search: 122 }, SPEC_RATES), 366);
  // The GET before each PATCH has a bucket of its own, at the PATCHes' rate by default: raising the PATCH rate alone leaves it deciding.
  t.is(pacedSeconds(calls, { ...SPEC_RATES, patch: 120 }), 12_119);
  t.is(pacedSeconds(calls, { ...SPEC_RATES, patch: 120, get: 120 }), 12_119 / 2);
  t.is(describeSeconds(40), '40 s');
  t.is(describeSeconds(120), '2 min');
  t.is(describeSeconds(3600), '1 h');
});

test('totals count each kind of change, most frequent first; removals are reviewed apart', (t) => {
  const contact = (id: string, from: string, to: string): PlannedContact => ({ id, changes: [{ column: 'portal_role', from, to }] });
  const body = planBody({
    sync: { others: { portal_role: 'member' } },
    counts: { changes: 3, removals: 1, unchanged: 0, failed: 0 },
    changes: [contact('a', 'member', 'admin'), contact('b', '', 'admin'), contact('c', 'member', 'admin')],
    removals: [contact('d', 'admin', 'member')],
  });
  t.deepEqual(planTotals(body.changes), [
    { column: 'portal_role', from: 'member', to: 'admin', count: 2 },
    { column: 'portal_role', from: '', to: 'admin', count: 1 },
  ]);
  const review = reviewPlan(sealPlan(body), { path: 'p.json', now: Date.parse('2026-01-01T01:00:00.000Z'), rates: SPEC_RATES, rateWindowMs: 60_000, readBatch: 100 });
  t.is(review.ageSeconds, 3600);
  t.deepEqual(review.totals.removals, [{ column: 'portal_role', from: 'admin', to: 'member', count: 1 }]);
  t.deepEqual(review.calls, { me: 1, customFields: 1, search: 1, get: 4, patch: 4 });
  t.is(review.etaSeconds, 4);
});

test('a plan of one change says "1 contact", not "1 contacts"', (t) => {
  const body = planBody({
    counts: { changes: 1, removals: 0, unchanged: 0, failed: 0 },
    changes: [{ id: 'a', changes: [{ column: 'portal_role', from: 'member', to: 'admin' }] }],
    removals: [],
  });
  const text = renderPlanReview(reviewPlan(sealPlan(body), { path: 'p.json', now: Date.parse('2026-01-01T01:00:00.000Z'), rates: SPEC_RATES, rateWindowMs: 60_000, readBatch: 100 }));
  t.regex(text, /^Changes: 1 contact$/m);
  t.notRegex(text, /\b1 contacts\b/);
});
