import type { LoaderInput, TableLoader } from './common.js';

export * from './common.js';

/** Opens the loader for a target; the database client is loaded only now. */
export async function openLoader(input: LoaderInput): Promise<TableLoader> {
  if (input.target.kind === 'postgresql') {
    const { openPostgresLoader } = await import('./postgres.js');
    return openPostgresLoader(input);
  }
  const { openDuckDbLoader } = await import('./duckdb.js');
  return openDuckDbLoader(input);
}
