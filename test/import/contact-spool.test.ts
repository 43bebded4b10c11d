import test from 'ava';
import { ContactSpool } from '../../src/import/contact-spool.js';
import { hashString } from '../../src/import/hash.js';
import type { Contact } from '../../src/pylon/types.js';

const contact = (id: string, email: string | null, emails: string[] = email ? [email] : []): Contact =>
  ({ id, name: id, email, emails, portal_role: 'member', custom_fields: {} }) as unknown as Contact;

test('finds contacts by primary and secondary email, case-insensitively, and by id when asked', (t) => {
  const spool = new ContactSpool(true);
  t.teardown(() => spool.close());
  spool.add([contact('c1', 'Ann@Example.com', ['Ann@Example.com', 'ann.old@example.com']), contact('c2', null, [])]);
  spool.add([contact('c3', 'bob@example.com')]);

  t.like(spool.find('e:ann@example.com'), { kind: 'one', contact: { id: 'c1' } });
  t.like(spool.find('e:ann.old@example.com'), { kind: 'one', contact: { id: 'c1' } });
  t.like(spool.find('e:bob@example.com'), { kind: 'one', contact: { id: 'c3' } });
  t.like(spool.find('i:c2'), { kind: 'one', contact: { id: 'c2' } });
  t.deepEqual(spool.find('e:nobody@example.com'), { kind: 'none' });
  t.deepEqual(spool.find('i:c9'), { kind: 'none' });
  t.is(spool.count, 3);
});

test('without byId, ids are not keys', (t) => {
  const spool = new ContactSpool(false);
  t.teardown(() => spool.close());
  spool.add([contact('c1', 'a@example.com')]);
  t.deepEqual(spool.find('i:c1'), { kind: 'none' });
});

test('an email held by two contacts answers "many" with both ids, however many more hold it', (t) => {
  const spool = new ContactSpool(false);
  t.teardown(() => spool.close());
  spool.add([contact('c1', 'shared@example.com'), contact('c2', 'other@example.com', ['other@example.com', 'SHARED@example.com'])]);
  spool.add([contact('c3', 'shared@example.com')]);
  const match = spool.find('e:shared@example.com');
  t.is(match.kind, 'many');
  t.deepEqual(match.kind === 'many' ? match.ids.sort() : [], ['c1', 'c2', 'c3']);
  t.like(spool.find('e:other@example.com'), { kind: 'one', contact: { id: 'c2' } });
});

test('the same contact listed twice is one holder, and its later copy wins', (t) => {
  const spool = new ContactSpool(false);
  t.teardown(() => spool.close());
  spool.add([{ ...contact('c1', 'a@example.com'), name: 'Old' }]);
  spool.add([{ ...contact('c1', 'a@example.com'), name: 'New' }]);
  t.like(spool.find('e:a@example.com'), { kind: 'one', contact: { id: 'c1', name: 'New' } });
});

test('200,000 contacts: every key found exactly, through 32-bit hash collisions', (t) => {
  const n = 200_000;
  const email = (i: number) => `person.${i}@example-${i % 977}.com`;
  // The keys do collide on the 32-bit hash: exactness comes from reading the contact back.
  const seen = new Set<number>();
  let collisions = 0;
  for (let i = 0; i < n; i++) {
    const h = hashString('e:' + email(i));
    if (seen.has(h)) collisions++;
    seen.add(h);
  }
  t.true(collisions > 0, `${collisions} collisions among ${n} keys`);

  const spool = new ContactSpool(false);
  t.teardown(() => spool.close());
  for (let page = 0; page < n; page += 999) {
    const contacts: Contact[] = [];
    for (let i = page; i < Math.min(page + 999, n); i++) contacts.push(contact(`c${i}`, email(i)));
    spool.add(contacts);
  }
  let wrong = 0;
  for (let i = 0; i < n; i++) {
    const match = spool.find('e:' + email(i).toUpperCase().toLowerCase());
    if (match.kind !== 'one' || match.contact.id !== `c${i}`) wrong++;
  }
  t.is(wrong, 0);
  t.deepEqual(spool.find('e:person.200000@example-692.com'), { kind: 'none' });
  // 12 bytes of place per contact, and at most 4 slots of 8 bytes per key.
  t.true(spool.bytes <= n * 12 * 2 + n * 32, `index holds ${spool.bytes} bytes`);
});

test('contacts with multi-byte text, in a page larger than the write buffer, read back exactly', (t) => {
  const spool = new ContactSpool(false);
  t.teardown(() => spool.close());
  // About 2.4 MB of text in one page (the buffer starts at 1 MB), names in 2-, 3- and 4-byte UTF-8.
  const page = Array.from({ length: 3000 }, (_, i) => ({ ...contact(`c${i}`, `p${i}@example.com`), name: `Zoë 张伟 😀 ${'ü'.repeat(200)} ${i}` }) as Contact);
  spool.add(page);
  spool.add([contact('last', 'last@example.com')]);
  let wrong = 0;
  for (let i = 0; i < page.length; i += 1) {
    const found = spool.find(`e:p${i}@example.com`);
    if (found.kind !== 'one' || found.contact.name !== page[i]!.name || found.contact.id !== `c${i}`) wrong++;
  }
  t.is(wrong, 0);
  t.like(spool.find('e:last@example.com'), { kind: 'one', contact: { id: 'last' } });
});
