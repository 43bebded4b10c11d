/**
 * Contacts created or deleted while the list is walked (issue 15). With a
 * positional cursor nothing goes wrong; with an offset-style cursor an insert
 * before the cursor repeats a row and a delete skips one. Pylon does not say
 * which it uses. The export therefore writes each id once, and when the walk
 * shows that the list moved (an id met twice), or always with
 * `--recheck always`, walks the list again, appending contacts the earlier
 * walks did not see, until a walk neither meets an id twice nor adds one.
 */
import { IdSet, idKey } from './id-index.js';
import { counted } from '../plural.js';

export type RecheckMode = 'auto' | 'always' | 'never';

/** What the export can vouch for; in the stats and the manifest. */
export interface ListCheck {
  /**
   * - `no-sign-of-change`: one walk, no id met twice (a delete alone can still
   *   skip a contact on an offset-paged list without a sign; see `note`);
   * - `verified`: a further walk met no id twice and found none the export lacked;
   * - `unverified`: the list kept moving through the last walk allowed: `note` says what may be missing.
   */
  verdict: 'no-sign-of-change' | 'verified' | 'unverified';
  /** Walks of the list (1 + rechecks). */
  walks: number;
  /** Rows met again and not written twice, over all walks. */
  repeated: number;
  /** Contacts found by a recheck that the earlier walks did not write. */
  addedByRecheck: number;
  note: string | null;
}

/** Walks after the first: enough for a list that settles; a list that never does is reported. */
export const MAX_RECHECKS = 3;

export class ListTracker {
  readonly #written = new IdSet();
  /** The ids met in this walk; in the first walk these are the ids written, so one table serves both (9 bytes a slot, about 13 MB at 1M ids). */
  #walk = this.#written;
  #walkRepeated = 0;
  #walkAdded = 0;
  readonly check: ListCheck = { verdict: 'no-sign-of-change', walks: 1, repeated: 0, addedByRecheck: 0, note: null };

  /** Whether to write this contact: false for an id already written. */
  admit(id: string): boolean {
    const key = idKey(id);
    if (!this.#walk.add(key)) {
      // Met twice in this walk (in the first walk: already written).
      this.#walkRepeated += 1;
      this.check.repeated += 1;
      return false;
    }
    if (this.#walk !== this.#written && !this.#written.add(key)) return false;
    if (this.check.walks > 1) {
      this.#walkAdded += 1;
      this.check.addedByRecheck += 1;
    }
    return true;
  }

  /** After a walk: whether to walk again. Sets the verdict. */
  walkAgain(mode: RecheckMode): boolean {
    const moved = this.#walkRepeated > 0 || this.#walkAdded > 0;
    const first = this.check.walks === 1;
    if (first && !moved && mode !== 'always') {
      this.check.note =
        'one walk met no id twice; on a list paged by offset a contact deleted during the walk could still make it skip one without a sign (--recheck always walks again to verify)';
      return false;
    }
    if (!first && !moved) {
      this.check.verdict = 'verified';
      this.check.note = `walk ${this.check.walks} met no id twice and found no contact the export lacked; contacts deleted during the export may still be in it`;
      return false;
    }
    if (mode === 'never' || this.check.walks > MAX_RECHECKS) {
      this.check.verdict = 'unverified';
      this.check.note =
        `the list changed during the export (${counted(this.check.repeated, 'row')} met again${this.check.addedByRecheck ? `, ${counted(this.check.addedByRecheck, 'contact')} found only by a recheck` : ''})` +
        (mode === 'never' ? '; with --recheck never it was not walked again: contacts present throughout may be missing' : `; it was still changing on walk ${this.check.walks}: contacts present throughout may be missing`);
      return false;
    }
    this.check.walks += 1;
    this.#walk = new IdSet();
    this.#walkRepeated = 0;
    this.#walkAdded = 0;
    return true;
  }
}
