/**
 * The Parquet row-group limits, apart from the encoder so the options can name
 * the default without loading hyparquet-writer: a row group ends at
 * ROW_GROUP_ROWS rows (DuckDB's default) or once its pages reach
 * ROW_GROUP_BYTES uncompressed, whichever comes first.
 */
export const ROW_GROUP_ROWS = 122_880;
export const ROW_GROUP_BYTES = 64 * 1024 * 1024;
