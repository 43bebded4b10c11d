/**
 * yargs as the CLI's start-up path loads it. The source re-exports the package; `npm run build`
 * then replaces this module's output, dist/cli/yargs.js, with one file holding yargs and all
 * its dependencies (scripts/bundle.mjs), so `pylon-contacts --help` reads one file
 * instead of some fifty. Tests that import src/ get the package itself.
 */
export { default } from 'yargs';
export { hideBin } from 'yargs/helpers';
