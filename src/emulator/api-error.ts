import { CODES } from './messages.js';

/** An error answer in Pylon's envelope: thrown by any phase, written by respond(). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: string[];
  readonly existsId?: string;
  constructor(status: number, code: string, errors: string | string[], extra: { existsId?: string } = {}) {
    const list = Array.isArray(errors) ? errors : [errors];
    super(list.join('; '));
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.errors = list;
    this.existsId = extra.existsId;
  }
}

export function badRequest(errors: string | string[]): ApiError {
  return new ApiError(400, CODES.invalidRequest, errors);
}
