import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';

/**
 * The one reader of a `--map` file (and of a preset, for `--from`): the file's
 * JSON, a UTF-8 byte order mark allowed, with one set of messages whatever
 * the map turns out to be (a rename map or a transforming one).
 */
export async function readMapFile(path: string, option: '--map' | '--from' = '--map'): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw new ConfigError('CONFIG_BAD_MAPPING', `The mapping file ${path} is a directory: name a JSON mapping file`, { option });
    throw new ConfigError('CONFIG_BAD_MAPPING', `Cannot read the mapping file ${path}: ${(error as Error).message}`, { option });
  }
  try {
    return JSON.parse(text.replace(/^\ufeff/, ''));
  } catch (error) {
    throw new ConfigError('CONFIG_BAD_MAPPING', `The mapping file ${path} is not valid JSON: ${(error as Error).message}`, { option });
  }
}
