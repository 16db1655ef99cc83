import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LabNamespace } from '../src/testing/index.js';

// Watched devices must never hold a process hostage: process.exit() returns at
// once, closing everything lets the loop end, unref() lets it end while
// watching. Each case runs in a child; the timeout only turns a hang into a failure.

const INDEX_JS = fileURLToPath(new URL('../src/index.js', import.meta.url));
let ns: LabNamespace;
before(() => {
  ns = new LabNamespace(`dvn${process.pid}x`);
});
after(() => ns.dispose());

function runChild(body: string): string {
  const script = `import('${INDEX_JS}').then(async (m) => {
    const restore = m.enterNetworkNamespace('${ns.name}');
    const tap = m.openTapSync({ name: 'dvn${process.pid}x0' });
    const sock = m.openTunnelSocketSync({ address: '127.0.0.1', port: 0 });
    const port = m.openAttachedDeviceSync({ name: 'dvn${process.pid}x0' });
    const monitor = m.openLinkMonitor();
    restore();
    tap.onReadable(() => tap.read(new m.PacketBatch(8, 2048), 0));
    sock.onReadable(() => {});
    port.onReadable(() => port.read(new m.PacketBatch(8, 2048), 0));
    ${body}
  })`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 15000,
  }).trim();
}

test('process.exit() while a TAP, a socket, an attached device and a link monitor are watched exits at once', () => {
  assert.equal(runChild(`console.log('bye'); process.exit(0);`), 'bye');
});

test('closing everything lets the process end by itself', () => {
  assert.equal(
    runChild(
      `setTimeout(() => { port.close(); monitor.close(); tap.close(); sock.close(); console.log('closed'); }, 50);`,
    ),
    'closed',
  );
});

test('unref() lets the process end while still watching', () => {
  assert.equal(runChild(`tap.unref(); sock.unref(); port.unref(); monitor.unref(); console.log('unref');`), 'unref');
});
