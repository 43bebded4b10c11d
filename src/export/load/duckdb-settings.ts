// In a module of its own, with no imports: `--help` shows the default memory cap without loading the export's code.

/**
 * DuckDB's settings for a load. Its buffer manager is capped (by default it
 * takes 80 % of the machine's memory and keeps the merge's writes in it): past
 * the cap the merge's joins and temporary tables spill to `<database>.tmp`
 * (the staged rows themselves are in the Parquet staging file), and the inserted rows are written
 * to the database file as they come. 80 MB holds the merge of a 1M-contact
 * table whichever rows changed, because the merge joins ids and hashes only
 * (diffMergeStatements), and the first load's INSERT (64 MB did not); each MB
 * of cap is a MB of RSS during the walk, where the JavaScript side holds the
 * delta's id index beside it (bench/RESULTS.md, bench:warehouse-duckdb-rss).
 * Insertion order is not kept (the merge needs none), which lets the INSERT …
 * SELECT stream instead of buffering. The allocator hands freed memory back to
 * the system as soon as a task ends (DuckDB's default keeps up to 128 MB
 * cached), with background threads doing it. The external file cache is
 * off: DuckDB would keep the blocks it read from the staging Parquet file in
 * its buffers (up to the cap), although the merge reads that file at most
 * twice and removes it; those blocks then sat beside the state being written
 * and the COMMIT's checkpoint, the second night's peak
 * (bench/RESULTS.md, bench:warehouse-duckdb-second-night).
 * `PYLON_DUCKDB_MEMORY_LIMIT` overrides the cap (a DuckDB size such as `1GB`).
 */
export const DUCKDB_SETTINGS = {
  memory_limit: '80MB',
  preserve_insertion_order: 'false',
  allocator_flush_threshold: '8MB',
  allocator_background_threads: 'true',
  enable_external_file_cache: 'false',
} as const;
