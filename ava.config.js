// ava's configuration (here rather than in package.json because sortTestFiles is a function).
// The suite is CPU-bound on two cores, so its length is the sum of the work divided by two,
// plus whatever one long file still runs alone at the end: the files that take longest start
// first, the rest fill in around them (docs/development.md). A file missing from the list only
// starts later; a renamed one should be renamed here too. Three files run at a time: several
// files spend part of their time waiting (late windows, Retry-After, child processes), and a
// third file uses the cores meanwhile (idle: 2 min 45 s against 3 min 17 s with two).
const SLOW_FIRST = [
  // Longest first, by each file's wall time in one run of the whole suite on a busy machine
  // (PYLON_TEST_CPU_LOG, scripts/file-cpu.mjs; docs/development.md, Suite time).
  'test/install.test.ts',
  'test/update/update.test.ts',
  'test/cli/import-e2e.test.ts',
  'test/cli/resume-e2e.test.ts',
  'test/cli/matrix.test.ts',
  'test/import/run-import.test.ts',
  'test/cli/weak-inputs.test.ts',
  'test/cli/edges-e2e.test.ts',
  'test/cli/late-creates-e2e.test.ts',
  'test/cli/update-e2e.test.ts',
  'test/cli/torture-e2e.test.ts',
  'test/cli/fifo-input-e2e.test.ts',
  'test/cli/corpus-e2e.test.ts',
  'test/cli/hubspot-languages-e2e.test.ts',
  'test/cli/migrate-e2e.test.ts',
  'test/cli/plan-review-e2e.test.ts',
  'test/update/apply.test.ts',
  'test/emulator/seed.test.ts',
  'test/cli/apply-e2e.test.ts',
  'test/import/dedupe.test.ts',
  'test/cli/demo-e2e.test.ts',
  'test/update/resume-safety.test.ts',
  'test/export/warehouse/duckdb-overlap.test.ts',
  'test/export/warehouse/load-schema-change.test.ts',
  'test/export/warehouse/load-postgres.test.ts',
  'test/pylon/client-envelope.test.ts',
];

const withoutExtension = (file) => file.replace(/\.[cm]?[jt]s$/, '');
const rank = (file) => {
  const index = SLOW_FIRST.findIndex((slow) => withoutExtension(file).endsWith(withoutExtension(slow)));
  return index === -1 ? SLOW_FIRST.length : index;
};

// `npm test` compiles src/ and test/ once into .test-build/ (scripts/compile-tests.mjs) and says so in
// PYLON_TEST_BUILD: the workers then load JavaScript, without tsx. `npx ava <file>` runs the sources under tsx.
const compiled = process.env.PYLON_TEST_BUILD;
// PYLON_TEST_CPU_LOG=<file>: each worker appends its CPU and wall seconds and its test file (scripts/file-cpu.mjs).
const cpuLog = process.env.PYLON_TEST_CPU_LOG ? [`--import=${new URL('./scripts/file-cpu.mjs', import.meta.url).href}`] : [];

export default {
  ...(compiled
    ? { files: [`${compiled}/test/**/*.test.js`], nodeArguments: cpuLog }
    : { files: ['test/**/*.test.ts'], extensions: { ts: 'module' }, nodeArguments: ['--import=tsx', ...cpuLog] }),
  workerThreads: false,
  // ava's timeout is for silence: it fires when no test has ended for this long. It guards against a hang,
  // not against slowness: a long file left running alone at the end of the suite on a busy machine
  // (duckdb-overlap took 112 s at a load of 30) must not be cut off, so it is set well past that.
  timeout: '10m',
  concurrency: 3,
  sortTestFiles: (a, b) => rank(a) - rank(b) || a.localeCompare(b, [], { numeric: true }),
};
