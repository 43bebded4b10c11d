/**
 * smallerPageSize: only a refusal (400, or 422 from a server that answers validation so) about the `limit` parameter itself steps the page size down; a 400 that merely holds the
 * word "limit" (a filter's own limit, a rate limit) is another error, surfaced as it is.
 */
import test from 'ava';
import { smallerPageSize } from '../../src/pylon/client.js';
import { PylonApiError } from '../../src/pylon/errors.js';

const refused = (message: string, status = 400) =>
  new PylonApiError({ code: 'PYLON_HTTP', message: `POST /contacts/search returned ${status}: ${message}`, status, method: 'POST', endpoint: 'search', path: '/contacts/search', errors: [message] });

test('a 400 about limit steps the page size down to what the message names, else to half', (t) => {
  t.is(smallerPageSize(refused('limit must be between 1 and 100'), 999), 100);
  t.is(smallerPageSize(refused('limit must be an integer greater than 0 and less than 500'), 999), 499);
  t.is(smallerPageSize(refused('invalid limit'), 999), 499);
  t.is(smallerPageSize(refused('"limit" is too large'), 999), 499);
  t.is(smallerPageSize(refused('Invalid value for limit: at most 200'), 999), 200);
  t.is(smallerPageSize(refused('limit: must be at most 250'), 999), 250);
});

test('a 400 that only mentions the word limit is not a refused page size', (t) => {
  for (const message of [
    'filter values exceed the limit of 25',
    'values limit is 25 per filter',
    'You have reached the rate limit for search',
    'request body limit exceeded',
    'The limit of 3 nested filters was exceeded',
    'name is over the character limit',
  ]) {
    t.is(smallerPageSize(refused(message), 999), undefined, message);
  }
});

test('only a refusal (400, 409, 422: isRefusal), and only above a page of one', (t) => {
  t.is(smallerPageSize(refused('limit must be between 1 and 100', 422), 999), 100, 'a server answering validation with 422');
  t.is(smallerPageSize(refused('limit must be between 1 and 100', 500), 999), undefined);
  t.is(smallerPageSize(refused('limit must be between 1 and 100', 404), 999), undefined);
  t.is(smallerPageSize(refused('limit must be between 1 and 100'), 1), undefined);
});
