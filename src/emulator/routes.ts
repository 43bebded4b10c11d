/**
 * The route table, built once: method + path pattern → endpoint key (its rate
 * bucket) and handler. Handlers return the 200 body or throw ApiError.
 */
import type { EndpointKey } from './options.js';
import { createContact, deleteContact, getContact, importContact, listContacts, patchContact, searchContacts } from './handlers/contacts.js';
import { createAccount, deleteAccount, getAccount, getCustomField, getMe, listAccounts, listCustomFields, searchAccounts } from './handlers/org.js';
import type { EmulatorContext, RequestInfo } from './context.js';

export type { EmulatorContext, RequestInfo } from './context.js';

export type Handler = (app: EmulatorContext, req: RequestInfo) => string;

export interface Route {
  method: string;
  segments: string[];
  endpoint: EndpointKey;
  handler: Handler;
  body?: boolean;
}

export const ROUTES: Route[] = [
  { method: 'GET', segments: ['contacts'], endpoint: 'list', handler: listContacts },
  { method: 'POST', segments: ['contacts'], endpoint: 'create', handler: createContact, body: true },
  { method: 'POST', segments: ['contacts', 'search'], endpoint: 'search', handler: searchContacts, body: true },
  { method: 'GET', segments: ['contacts', ':id'], endpoint: 'get', handler: getContact },
  { method: 'PATCH', segments: ['contacts', ':id'], endpoint: 'patch', handler: patchContact, body: true },
  { method: 'DELETE', segments: ['contacts', ':id'], endpoint: 'delete', handler: deleteContact },
  { method: 'POST', segments: ['import', 'contacts'], endpoint: 'import', handler: importContact, body: true },
  { method: 'GET', segments: ['custom-fields'], endpoint: 'customFields', handler: listCustomFields },
  { method: 'GET', segments: ['custom-fields', ':id'], endpoint: 'customFields', handler: getCustomField },
  { method: 'GET', segments: ['accounts'], endpoint: 'accounts', handler: listAccounts },
  { method: 'POST', segments: ['accounts'], endpoint: 'accountsCreate', handler: createAccount, body: true },
  { method: 'POST', segments: ['accounts', 'search'], endpoint: 'accountsSearch', handler: searchAccounts, body: true },
  { method: 'GET', segments: ['accounts', ':id'], endpoint: 'accounts', handler: getAccount },
  // Its own bucket would change every --rate list; deleting an account is a test's set-up, as rare as deleting a contact.
  { method: 'DELETE', segments: ['accounts', ':id'], endpoint: 'delete', handler: deleteAccount },
  { method: 'GET', segments: ['me'], endpoint: 'me', handler: getMe },
];

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/** Finds the route for a method and path (no query string); undefined → 404. */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  const parts = path.split('/').slice(1);
  for (const route of ROUTES) {
    if (route.method !== method || route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const seg = route.segments[i];
      if (seg.startsWith(':')) {
        if (parts[i] === '') ok = false;
        else {
          try {
            params[seg.slice(1)] = decodeURIComponent(parts[i]);
          } catch {
            ok = false;
          }
        }
      } else ok = seg === parts[i];
    }
    if (ok) return { route, params };
  }
  return undefined;
}
