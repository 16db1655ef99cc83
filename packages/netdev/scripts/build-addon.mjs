// Builds the native addon (binding.gyp) from source with node-gyp. Run by npm
// as this package's install script (so `npm ci` builds it) and by
// scripts/bootstrap.sh when the addon is missing.
//
// node-gyp is npm's bundled copy (npm passes its path in npm_config_node_gyp).
// Node's headers: when they are installed next to this node binary (Debian's
// nodejs ships /usr/include/node) and no nodedir is configured, we point
// node-gyp at them, so nothing is ever downloaded.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = dirname(dirname(process.execPath));
const bundledNodeGyp = join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
const nodeGyp = process.env.npm_config_node_gyp || bundledNodeGyp;
const args = [nodeGyp, 'rebuild'];
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include/node/node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const result = spawnSync(process.execPath, args, { cwd: packageDir, stdio: 'inherit' });
process.exit(result.status ?? 1);
