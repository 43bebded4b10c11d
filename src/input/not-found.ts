import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { editDistance } from '../edit-distance.js';
import { mayBeToken } from '../config.js';
import { ConfigError } from '../errors.js';

/**
 * INPUT_NOT_FOUND for an input path (a plan's too: `what`, `option`), with what to check: the file of its folder one or two typos
 * away (`contact.csv` for contacts.csv), or that the folder is missing too.
 */
export function inputNotFound(path: string, what = 'Input file', option = '<file>'): ConfigError {
  const folder = dirname(path);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return new ConfigError('INPUT_NOT_FOUND', `${what} not found: ${path} (the folder ${folder} does not exist either: check the path)`, { option });
  }
  // A token typed where the file goes (`import <token>`) is not repeated: no redaction knows it.
  if (mayBeToken(basename(path))) {
    return new ConfigError('INPUT_NOT_FOUND', `${what} not found: the name given (${basename(path).length} characters) is no file in ${folder}; it is not shown, as it may be an API token (pass one with --token or PYLON_API_TOKEN)`, { option });
  }
  const wanted = basename(path).toLowerCase();
  let best: { name: string; cost: number } | undefined;
  for (const name of names) {
    const cost = editDistance(wanted, name.toLowerCase());
    if (!best || cost < best.cost) best = { name, cost };
  }
  const hint =
    best && best.cost <= Math.max(1, Math.min(2, Math.floor(wanted.length / 4)))
      ? `did you mean ${folder === '.' ? best.name : join(folder, best.name)}?`
      : `no file of that name is in ${folder === '.' ? 'the current folder' : folder}: check the name`;
  return new ConfigError('INPUT_NOT_FOUND', `${what} not found: ${path} (${hint})`, { option });
}
