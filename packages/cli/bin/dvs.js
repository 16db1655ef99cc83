#!/usr/bin/env node
// The `dvs` command. Committed (not built), so that npm links it when it
// installs the workspace, before tsc has written dist/; it runs the built program.
import '../dist/src/main.js';
