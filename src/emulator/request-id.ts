/** Request ids: UUID-shaped, unique per emulator process, cheap to make. */
import { randomBytes } from 'node:crypto';

const boot = randomBytes(8).toString('hex');
let counter = 0;

export function nextRequestId(): string {
  counter += 1;
  return `${boot.slice(0, 8)}-${boot.slice(8, 12)}-4${boot.slice(13, 16)}-8${counter.toString(16).padStart(15, '0').slice(0, 3)}-${counter.toString(16).padStart(15, '0').slice(3)}`;
}

/** A random id in UUID shape (made-up `exists_id` of a forced duplicate). */
export function uuidLike(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
