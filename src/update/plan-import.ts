/**
 * `import … --plan-out plan.json`: the import's dry run saved as a plan that
 * `apply` carries out exactly. A plan holds changes to existing contacts only
 * (apply checks each against its live values before the PATCH); a file with rows
 * that would create contacts is refused: import those first, or use --mode update.
 */
import type { PylonClient } from '../pylon/api.js';
import { ConfigError } from '../errors.js';
import { runImport, type ImportStats, type RunImportHooks } from '../import/run-import.js';
import type { ImportOptions } from '../import/options.js';
import { fileSource, newPlan, writePlanFile, type PlannedContact, type SavedPlan } from './plan-file.js';
import { fetchTarget, TOOL_VERSION } from './target.js';
import { fileHash } from './apply.js';
import { checkWritable } from '../output/output-file.js';
import { counted } from '../plural.js';

export async function planImport(
  options: ImportOptions,
  planOut: string,
  hooks: RunImportHooks & { client: PylonClient; command?: string },
): Promise<{ stats: ImportStats; saved?: SavedPlan }> {
  await checkWritable([{ path: planOut, option: '--plan-out' }]);
  const target = await fetchTarget(hooks.client, options.connection.baseUrl, hooks.signal);
  const changes: PlannedContact[] = [];
  const creates: number[] = [];
  const stats = await runImport({ ...options, dryRun: true, journalPath: undefined, undoOrganization: target.organization?.id }, {
    ...hooks,
    onPlan: (line, action, fieldChanges, contact) => {
      if (action === 'create' || !contact.id) creates.push(line);
      else changes.push({ id: contact.id, ...(contact.email ? { email: contact.email } : {}), line, changes: fieldChanges.map((c) => ({ ...c })) });
    },
  });
  if (stats.fatal || stats.interrupted) return { stats };
  if (creates.length > 0) {
    throw new ConfigError(
      'CONFIG_INVALID_OPTION',
      `Invalid option \`--plan-out\`: ${counted(creates.length, 'row')} would create ${creates.length === 1 ? 'a contact (line' : 'contacts (lines'} ${creates.slice(0, 10).join(', ')}${creates.length > 10 ? ', …' : ''}); a saved plan holds changes to existing contacts only. Import the new contacts first, or use --mode update. Nothing was written.`,
      { option: '--plan-out' },
    );
  }
  const saved = newPlan({
    toolVersion: TOOL_VERSION,
    command: hooks.command ?? 'import',
    target,
    source: fileSource(options.input, fileHash),
    set: options.set,
    changes,
    removals: [],
    unchanged: stats.unchanged,
    failed: stats.failed,
  });
  await writePlanFile(planOut, saved);
  return { stats, saved };
}
