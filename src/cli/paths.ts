/**
 * Checks on output paths that the commands make before any call: a saved plan
 * is not silently replaced, and an undo file is a regular file in a folder that
 * exists (never a device, a pipe or /dev/null, where the previous values would
 * be lost or, beside a device, land in a file nobody asked for).
 */
import { lstatSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../errors.js';
import { describe } from '../output/output-file.js';

function kindOf(stats: import('node:fs').Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isFIFO()) return 'a pipe';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** `--plan-out`: an existing file (a plan a colleague may have reviewed) is replaced only with `--force`. */
export function refuseExistingPlan(path: string, force: boolean): void {
  const existing = lstatSync(path, { throwIfNoEntry: false });
  if (!existing) return;
  if (!existing.isFile()) {
    throw new ConfigError('OUTPUT_UNWRITABLE', `Cannot write the plan to ${path} (--plan-out): it is ${kindOf(existing)}; a plan is a regular file. Nothing was written.`, { option: '--plan-out' });
  }
  if (!force) {
    throw new ConfigError(
      'OUTPUT_EXISTS',
      `${path} exists (--plan-out): a plan someone reviewed is not replaced under its name. Choose another path, or add --force to replace it. Nothing was written.`,
      { option: '--plan-out' },
    );
  }
}

/**
 * `--undo`: a regular file (or none yet) in a folder that exists. A run that
 * wants no undo file says `--no-undo`; `/dev/null` is refused like every device.
 */
export function checkUndoPath(path: string): void {
  const existing = statSync(path, { throwIfNoEntry: false });
  if (existing && !existing.isFile()) {
    throw new ConfigError(
      'OUTPUT_UNWRITABLE',
      `Invalid option \`--undo\`: ${path} is ${kindOf(existing)}; the undo file must be a regular file (it holds the values to restore). To run without one, say --no-undo. Nothing was sent.`,
      { option: '--undo' },
    );
  }
  const folder = statSync(dirname(path), { throwIfNoEntry: false });
  if (!folder?.isDirectory()) {
    throw new ConfigError('OUTPUT_UNWRITABLE', `Invalid option \`--undo\`: the folder of ${path} does not exist. Nothing was sent.`, { option: '--undo' });
  }
}

/**
 * An output folder (`demo --out`): made if it does not exist, but only inside a folder that does,
 * the rule of every other output. A mistyped path several levels deep is refused, not built.
 * `shown` is the path as the messages give it.
 */
export function makeOutputFolder(path: string, shown: string, option: string): void {
  // ENOTDIR (a file where a folder should be) as well as ENOENT means "not there".
  const statOf = (p: string) => {
    try {
      return statSync(p);
    } catch {
      return undefined;
    }
  };
  const existing = statOf(path);
  if (existing?.isDirectory()) return;
  if (existing) {
    throw new ConfigError('OUTPUT_UNWRITABLE', `Cannot write to ${shown} (${option}): it is ${existing.isFile() ? 'a file' : kindOf(existing)}, not a folder. Name a folder. Nothing was written.`, { option });
  }
  const parent = statOf(dirname(path));
  if (!parent?.isDirectory()) {
    throw new ConfigError(
      'OUTPUT_UNWRITABLE',
      `Cannot write to ${shown} (${option}): the folder it goes in, ${dirname(shown)}, ${parent ? 'is a file, not a folder' : 'does not exist'}. Check the path, or create that folder first. Nothing was written.`,
      { option },
    );
  }
  try {
    mkdirSync(path);
  } catch (error) {
    throw new ConfigError('OUTPUT_UNWRITABLE', `Cannot create ${shown} (${option}): ${describe(error)}. Nothing was written.`, { option, cause: error });
  }
}
