/**
 * Delimiter detection from the start of a file: an Excel `sep=` line wins;
 * otherwise the candidate that occurs (outside quotes) in the header and the same
 * number of times in most of the following records.
 */

export const DELIMITER_CANDIDATES = [',', ';', '\t', '|'] as const;

/** Records looked at when sniffing. */
const SNIFF_RECORDS = 10;

export interface SepLine {
  delimiter: string;
  /** Characters to skip: the line and its line break. */
  length: number;
}

/** Excel's `sep=;` first line (optionally quoted), which is not the header. */
export function readSepLine(text: string): SepLine | undefined {
  const match = /^"?sep=(.)"?[^\S\r\n]*(\r\n|\r|\n|$)/i.exec(text);
  if (!match) return undefined;
  return { delimiter: match[1]!, length: match[0].length };
}

/** Enough text to sniff: more than SNIFF_RECORDS line breaks, or 64 KiB. */
export function hasEnoughToSniff(text: string): boolean {
  if (text.length >= 65536) return true;
  let breaks = 0;
  const pattern = /\r\n|\r|\n/g;
  while (pattern.exec(text)) if (++breaks > SNIFF_RECORDS) return true;
  return false;
}

/**
 * Picks the delimiter from the first records of `text`; `,` when nothing fits.
 * `complete`: the text is the whole input (else its last, maybe cut, record is ignored).
 */
export function sniffDelimiter(text: string, complete: boolean): string {
  const counts = countPerRecord(text, complete);
  let best: string = ',';
  let bestScore = -1;
  let bestHeader = 0;
  for (const candidate of DELIMITER_CANDIDATES) {
    const perRecord = counts.map((c) => c.get(candidate) ?? 0);
    const header = perRecord[0] ?? 0;
    if (header === 0) continue;
    const score = perRecord.slice(1).filter((n) => n === header).length;
    if (score > bestScore || (score === bestScore && header > bestHeader)) {
      best = candidate;
      bestScore = score;
      bestHeader = header;
    }
  }
  return best;
}

/** Occurrences of each candidate outside quotes, per record, for the first records. */
function countPerRecord(text: string, complete: boolean): Array<Map<string, number>> {
  const records: Array<Map<string, number>> = [];
  let current = new Map<string, number>();
  let quoted = false;
  let empty = true;
  for (let i = 0; i < text.length && records.length < SNIFF_RECORDS; i++) {
    const c = text[i]!;
    if (c === '"') {
      quoted = !quoted;
      empty = false;
    } else if (!quoted && (c === '\n' || c === '\r')) {
      if (!empty) records.push(current);
      current = new Map();
      empty = true;
    } else {
      empty = false;
      if (!quoted && (DELIMITER_CANDIDATES as readonly string[]).includes(c)) current.set(c, (current.get(c) ?? 0) + 1);
    }
  }
  if (complete && !empty && records.length < SNIFF_RECORDS) records.push(current);
  return records;
}
