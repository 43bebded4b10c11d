import type { CommandModule } from 'yargs';
import { importCommand } from './import.js';
import { exportCommand } from './export.js';
import { updateCommand } from './update.js';
import { applyCommand } from './apply.js';
import { emulatorCommand } from './emulator.js';
import { demoCommand } from './demo.js';
import { showCommand } from './show.js';

// Each command module maps argv to a typed options object, calls one run*/start*
// function and returns an exit code through the context. Add new commands here.
export const commands: CommandModule<object, any>[] = [
  importCommand,
  exportCommand,
  updateCommand,
  applyCommand,
  showCommand,
  emulatorCommand,
  demoCommand,
];
