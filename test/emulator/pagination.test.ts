import test from 'ava';
import { CODES, MSG } from '../../src/emulator/index.js';
import { client, collectPages, withEmulator } from '../helpers/with-emulator.js';

test('pages over 1,050 contacts at limit 100: every row once, in order, 11 pages', async (t) => {
  await withEmulator({ seed: 7, seedRandom: 1050 }, async (em) => {
    const { rows, pages } = await collectPages(em, { limit: 100 });
    t.is(pages.length, 11);
    t.is(rows.length, 1050);
    t.deepEqual(rows.map((r) => r.id), [...em.store.all()].map((c) => c.id));
    t.is(new Set(rows.map((r) => r.id)).size, 1050);
    t.is(pages[10].data.length, 50);
    for (const page of pages.slice(0, 10)) {
      t.true(page.pagination.has_next_page);
      t.true(typeof page.pagination.cursor === 'string' && page.pagination.cursor.length > 0);
    }
  });
});

for (const [variant, expected] of [
  ['empty', { cursor: '', has_next_page: false }],
  ['null', { cursor: null, has_next_page: false }],
  ['absent', { has_next_page: false }],
] as const) {
  test(`lastPageCursor=${variant}: the last page of list and search carries ${JSON.stringify(expected)}`, async (t) => {
    await withEmulator({ seedRandom: 25, lastPageCursor: variant }, async (em) => {
      const list = await collectPages(em, { limit: 10 });
      t.is(list.rows.length, 25);
      t.deepEqual(list.pages.at(-1).pagination, expected);
      const search = await collectPages(em, { limit: 10, search: { filter: { field: 'email', operator: 'string_contains', value: '@' } } });
      t.is(search.rows.length, 25);
      t.deepEqual(search.pages.at(-1).pagination, expected);
      const fields = await client(em).get('/custom-fields?object_type=contact');
      t.deepEqual(fields.body.pagination, expected);
    });
  });
}

test('an exact multiple of the limit ends with has_next_page false on the full page (no empty extra page)', async (t) => {
  await withEmulator({ seedRandom: 20 }, async (em) => {
    const { pages } = await collectPages(em, { limit: 10 });
    t.is(pages.length, 2);
    t.false(pages[1].pagination.has_next_page);
  });
});

test('limit: default 100, 1 and 999 accepted; 0, 1000, -1, 1.5 and words → 400', async (t) => {
  await withEmulator({ seedRandom: 1000 }, async (em) => {
    const api = client(em);
    t.is((await api.get('/contacts')).body.data.length, 100);
    t.is((await api.get('/contacts?limit=1')).body.data.length, 1);
    t.is((await api.get('/contacts?limit=999')).body.data.length, 999);
    for (const bad of ['0', '1000', '-1', '1.5', 'ten', '']) {
      const res = await api.get(`/contacts?limit=${bad}`);
      t.deepEqual([res.status, res.body.code, res.body.errors], [400, CODES.invalidRequest, [MSG.invalidLimit]], `limit=${bad}`);
    }
    for (const bad of [0, 1000, 2.5]) {
      const res = await api.post('/contacts/search', { limit: bad });
      t.deepEqual([res.status, res.body.errors], [400, [MSG.invalidLimit]], `search limit ${bad}`);
    }
    const wrongType = await api.post('/contacts/search', { limit: '10' });
    t.deepEqual([wrongType.status, wrongType.body.errors], [400, [MSG.wrongType('limit', 'an integer')]]);
    t.is((await api.post('/contacts/search', {})).body.data.length, 100);
  });
});

test('a cursor the emulator did not make → 400', async (t) => {
  await withEmulator({ seedRandom: 5 }, async (em) => {
    const api = client(em);
    const res = await api.get('/contacts?cursor=bogus');
    t.deepEqual([res.status, res.body.errors], [400, [MSG.invalidCursor]]);
    const search = await api.post('/contacts/search', { cursor: 42 });
    t.deepEqual([search.status, search.body.errors], [400, [MSG.wrongType('cursor', 'a string')]]);
  });
});

test('cursors stay valid across deletes and inserts between pages', async (t) => {
  await withEmulator({ seedRandom: 30 }, async (em) => {
    const api = client(em);
    const ids = [...em.store.all()].map((c) => c.id);
    const first = await api.get('/contacts?limit=10');
    // delete the first row of the next page and a row already read, add one at the end
    await api.delete(`/contacts/${ids[10]}`);
    await api.delete(`/contacts/${ids[3]}`);
    const added = await api.post('/contacts', { name: 'Late', email: 'late@x.example' });
    const rest: string[] = [];
    let cursor = first.body.pagination.cursor;
    for (;;) {
      const page = await api.get(`/contacts?limit=10&cursor=${cursor}`);
      rest.push(...page.body.data.map((c: any) => c.id));
      if (!page.body.pagination.has_next_page) break;
      cursor = page.body.pagination.cursor;
    }
    t.deepEqual(rest, [...ids.slice(11), added.body.data.id]);
  });
});

test('a page over a store with many deleted rows skips tombstones', async (t) => {
  await withEmulator({ seedRandom: 200 }, async (em) => {
    const ids = [...em.store.all()].map((c) => c.id);
    ids.forEach((id, i) => {
      if (i % 10 !== 0) em.store.delete(id);
    });
    const { rows, pages } = await collectPages(em, { limit: 7 });
    t.deepEqual(rows.map((r) => r.id), ids.filter((_, i) => i % 10 === 0));
    t.is(pages.length, 3);
  });
});
