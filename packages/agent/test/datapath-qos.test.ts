// Port QoS in the data path (token-bucket.ts): ingress policing and the
// egress limit, driven with an injected clock so the token arithmetic is
// exact: a burst's worth passes at once, then the rate's worth per
// millisecond; what exceeds it is dropped and counted `policed`; a port
// without a policer is untouched. Bad settings name the field and change
// nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frame, settle, BROADCAST } from './frames.js';
import { networkOnBoth, stopAll, twoHosts } from './two-hosts.js';

const SRC = 0x020000000a01;
/** 1000 bytes on the port (14 header + 986). */
const thousand = (): Buffer => frame(BROADCAST, SRC, 986);

function setup() {
  let now = 1_000_000;
  const hosts = twoHosts({ now: () => now });
  networkOnBoth(hosts.a, hosts.b, 100);
  const t1 = hosts.a.addPort({ name: 't1', mode: 'access', vni: 100 });
  const t2 = hosts.a.addPort({ name: 't2', mode: 'access', vni: 100 });
  const t3 = hosts.a.addPort({ name: 't3', mode: 'access', vni: 100 });
  const far = hosts.b.addPort({ name: 'far', mode: 'access', vni: 100 });
  return { ...hosts, t1, t2, t3, far, advance: (ms: number) => (now += ms) };
}

async function send(dev: { inject(f: Buffer): void }, n: number): Promise<void> {
  for (let i = 0; i < n; i++) dev.inject(thousand());
  await settle();
}

test('ingress policing: the burst passes at once, then the rate per millisecond; the rest is policed', async () => {
  const { a, b, t1, t2, far, advance } = setup();
  try {
    // 8000 kbit/s = 1000 bytes/ms; burst 80 kbit = 10 000 bytes = 10 frames.
    a.dp.setPortPolicer('t1', 'ingress', { rateKbps: 8000, burstKb: 80 });
    await send(t1, 25);
    assert.equal(t2.takeWritten().length, 10, 'the burst');
    assert.equal(far.takeWritten().length, 10, 'the same frames crossed');
    advance(5);
    await send(t1, 25);
    assert.equal(t2.takeWritten().length, 5, '5 ms at 1000 bytes/ms');
    advance(1000);
    await send(t1, 25);
    assert.equal(t2.takeWritten().length, 10, 'refilled to the burst, never beyond');
    const c = a.dp.counters();
    assert.equal(c.drops.policed, 15 + 20 + 15);
    assert.equal(c.ports['t1']!.rxFrames, 75, 'every frame counted as received');
    const view = a.dp.portViews().find((p) => p.name === 't1')!;
    assert.deepEqual(view.qos, { ingress: { rateKbps: 8000, burstKb: 80, policed: 50 }, egress: null });

    a.dp.setPortPolicer('t1', 'ingress', null);
    await send(t1, 25);
    assert.equal(t2.takeWritten().length, 25, 'off: everything passes');
  } finally {
    stopAll(a, b);
  }
});

test('egress limit: frames to the limited port are policed; the unlimited neighbour gets every frame', async () => {
  const { a, b, t1, t2, t3, advance } = setup();
  try {
    a.dp.setPortPolicer('t2', 'egress', { rateKbps: 8000, burstKb: 80 });
    await send(t1, 20);
    assert.equal(t2.takeWritten().length, 10, 'limited port: the burst');
    assert.equal(t3.takeWritten().length, 20, 'neighbour: all of them');
    advance(3);
    await send(t1, 20);
    assert.equal(t2.takeWritten().length, 3);
    assert.equal(t3.takeWritten().length, 20);
    assert.equal(a.dp.counters().drops.policed, 10 + 17);
  } finally {
    stopAll(a, b);
  }
});

test('bad QoS settings name the field and change nothing', () => {
  const { a, b } = setup();
  try {
    a.dp.setPortPolicer('t1', 'ingress', { rateKbps: 8000, burstKb: 80 });
    assert.throws(
      () => a.dp.setPortPolicer('t1', 'ingress', { rateKbps: 0, burstKb: 80 }),
      (e: Error & { code?: string }) => e.code === 'DVS_BAD_ARGUMENT' && /ingress rate must be/.test(e.message),
    );
    assert.throws(
      () => a.dp.setPortPolicer('t1', 'ingress', { rateKbps: 8000, burstKb: 8 }),
      (e: Error & { code?: string }) => e.code === 'DVS_BAD_ARGUMENT' && /burst must be/.test(e.message),
    );
    assert.throws(
      () => a.dp.setPortPolicer('nope', 'egress', { rateKbps: 8000, burstKb: 80 }),
      (e: Error & { code?: string }) => e.code === 'DVS_PORT_NOT_FOUND',
    );
    const view = a.dp.portViews().find((p) => p.name === 't1')!;
    assert.deepEqual(view.qos?.ingress, { rateKbps: 8000, burstKb: 80, policed: 0 }, 'the earlier setting stands');
  } finally {
    stopAll(a, b);
  }
});
