import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProbeHandler, ProbeTarget } from '../src/datapath/probe.js';
import { PROBE_ETHERTYPE as DATAPATH_PROBE_ETHERTYPE, PROBE_MAC as DATAPATH_PROBE_MAC } from '../src/datapath/probe.js';
import { dataPathProbeTransport } from '../src/health/data-path-probe-transport.js';
import { PROBE_ETHERTYPE, PROBE_MAC, probeFrame } from '../src/health/probe-codec.js';
import { TunnelMonitor } from '../src/health/tunnel-monitor.js';
import { FakeClock, peerAt } from './health-fakes.js';

class FakeDataPath {
  handler: ProbeHandler | null = null;
  sent: { target: ProbeTarget; frame: Uint8Array }[] = [];
  accept = true;
  errno: string | null = null;
  setProbeHandler(h: ProbeHandler | null): void {
    this.handler = h;
  }
  sendProbe(target: ProbeTarget, frame: Uint8Array): boolean {
    this.sent.push({ target, frame: frame.slice() });
    return this.accept;
  }
  lastProbeSendError(): string | null {
    return this.errno;
  }
}

test('health and the data path agree on the probe MAC and ethertype', () => {
  assert.equal(PROBE_MAC, DATAPATH_PROBE_MAC);
  assert.equal(PROBE_ETHERTYPE, DATAPATH_PROBE_ETHERTYPE);
});

test('the adapter sends through sendProbe and feeds diverted probes to the monitor with the VNI encap', () => {
  const dp = new FakeDataPath();
  const clock = new FakeClock();
  const m = new TunnelMonitor({
    transport: dataPathProbeTransport(dp, (vni) => (vni === 100 ? 'vxlan' : undefined)),
    clock,
    session: 1,
  });
  m.setPeers([peerAt('198.51.100.2', 'b')]);
  m.tick();
  assert.equal(dp.sent.length, 1);
  assert.deepEqual(dp.sent[0].target, { vtep: { address: '198.51.100.2', port: 4789 }, encap: 'vxlan', vni: 100 });
  // The peer answers: a reply frame arrives through the data path's hook.
  const reply = probeFrame({ kind: 'reply', session: 9, seq: 1, echoSession: 1, timestamp: 0 });
  dp.handler?.({ address: '198.51.100.2', port: 4789 }, 100, Buffer.from(reply));
  assert.equal(m.snapshots()[0].probes.replies, 1);
  dp.handler?.({ address: '198.51.100.2', port: 4789 }, 555, Buffer.from(reply));
  assert.equal(m.snapshots()[0].probes.replies, 1, 'unknown VNI ignored');
  m.stop();
  assert.equal(dp.handler, null);
});

test('a refused send becomes "send failed", or "no route" when the data path knows the errno', () => {
  for (const [errno, reason] of [
    [null, 'send failed'],
    ['ENETUNREACH', 'no route'],
  ] as const) {
    const dp = new FakeDataPath();
    dp.accept = false;
    dp.errno = errno;
    const clock = new FakeClock();
    const m = new TunnelMonitor({ transport: dataPathProbeTransport(dp, () => 'vxlan'), clock, session: 1 });
    m.setPeers([peerAt('198.51.100.2', 'b')]);
    for (let i = 0; i < 20; i++) {
      clock.advance(200);
      m.tick();
    }
    assert.equal(m.snapshots()[0].state, 'down');
    assert.equal(m.snapshots()[0].reason, reason);
    assert.equal(m.snapshots()[0].detail, errno ?? 'ESENDFAILED');
  }
});
