#!/usr/bin/env node
// The `dvs-agent` command. Committed (not built), so that npm links it when it
// installs the workspace, before tsc has written dist/; it runs the built program.
import '../dist/src/main.js';
