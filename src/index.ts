/**
 * pylon-contacts as a library: the same engines the CLI runs.
 *
 *   const options = resolveImportOptions({ input: 'contacts.csv', token, baseUrl });
 *   const stats = await runImport(options);
 */
export { runImport, type ImportStats, type RunImportHooks } from './import/run-import.js';
export { resolveImportOptions, type ImportOptions, type ImportOptionsInput } from './import/options.js';
export { runUpdate, type UpdateOptions, type UpdateHooks, type UpdatePlan, type UpdateResult } from './update/run-update.js';
export { runExport, type ExportStats, type RunExportHooks } from './export/run-export.js';
export { resolveExportOptions, type ExportOptions, type ExportOptionsInput } from './export/options.js';
export { createPylonClient, type PylonClientOptions } from './pylon/client.js';
export type { PylonClient, ApiPage, ApiResult, ClientStats } from './pylon/api.js';
export { PylonApiError } from './pylon/errors.js';
export { parseFilterExpression } from './pylon/filter-expr.js';
export { createEmulator, type Emulator, type EmulatorOptionsInput, type EmulatorStats } from './emulator/index.js';
// migrations (issue 13)
export { parseTransformMap, compileTransform, type TransformMap, type CompiledTransform } from './import/transform.js';
export { listPresets, detectPreset, type Preset } from './import/migrate.js';
export { normalizePhoneNumber, type PhoneResult } from './import/phone.js';
export { createInputSource, type InputSource, type InputItem } from './input/index.js';
export { PylonCliError, ConfigError, ExitError, InternalError, type ErrorCode } from './errors.js';
export type * from './pylon/types.js';
