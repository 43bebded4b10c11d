/**
 * Opaque page cursors and page-size bounds. A cursor is a store position
 * (insertion order), so it stays valid across deletes and inserts.
 */
import { badRequest } from './api-error.js';
import { MSG } from './messages.js';

const PREFIX = 'pc1:';

export function encodeCursor(position: number): string {
  return Buffer.from(PREFIX + position.toString(36)).toString('base64url');
}

/** Position to resume from; 0 when no cursor. Throws 400 on a cursor this emulator did not make. */
export function decodeCursor(cursor: unknown): number {
  if (cursor === undefined || cursor === null || cursor === '') return 0;
  if (typeof cursor !== 'string') throw badRequest(MSG.wrongType('cursor', 'a string'));
  const text = Buffer.from(cursor, 'base64url').toString();
  if (!text.startsWith(PREFIX) || !/^[0-9a-z]+$/.test(text.slice(PREFIX.length))) throw badRequest(MSG.invalidCursor);
  return parseInt(text.slice(PREFIX.length), 36);
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 999;

/** Query-string limit ("1".."999"); absent → 100. */
export function parseQueryLimit(raw: string | null): number {
  if (raw === null) return DEFAULT_LIMIT;
  if (!/^\d+$/.test(raw)) throw badRequest(MSG.invalidLimit);
  return checkLimit(Number(raw));
}

/** JSON-body limit (a number); absent or null → 100. */
export function parseBodyLimit(raw: unknown): number {
  if (raw === undefined || raw === null) return DEFAULT_LIMIT;
  if (typeof raw !== 'number') throw badRequest(MSG.wrongType('limit', 'an integer'));
  return checkLimit(raw);
}

function checkLimit(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw badRequest(MSG.invalidLimit);
  return n;
}
