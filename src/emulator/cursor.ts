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
export function parseQueryLimit(raw: string | null, max = MAX_LIMIT): number {
  if (raw === null) return Math.min(DEFAULT_LIMIT, max);
  if (!/^\d+$/.test(raw)) throw badRequest(limitMessage(max));
  return checkLimit(Number(raw), max);
}

/** JSON-body limit (a number); absent or null → 100. */
export function parseBodyLimit(raw: unknown, max = MAX_LIMIT): number {
  if (raw === undefined || raw === null) return Math.min(DEFAULT_LIMIT, max);
  if (typeof raw !== 'number') throw badRequest(MSG.wrongType('limit', 'an integer'));
  return checkLimit(raw, max);
}

/** `--max-page-size` below 999 answers as another server might: "limit must be between 1 and N". */
function limitMessage(max: number): string {
  return max === MAX_LIMIT ? MSG.invalidLimit : `limit must be between 1 and ${max}`;
}

function checkLimit(n: number, max: number): number {
  if (!Number.isInteger(n) || n < 1 || n > max) throw badRequest(limitMessage(max));
  return n;
}
