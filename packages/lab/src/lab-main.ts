#!/usr/bin/env node
// `dvs lab` on its own (the dvs CLI mounts the same program under `dvs lab`).
import { createLabCommand } from './lab-cli.js';

await createLabCommand('dvs-lab').parseAsync(process.argv);
