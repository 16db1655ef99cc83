import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTunnelStatus, encodeTunnelStatus, isRecordError } from '@dvs/wire';
import { TunnelMonitor } from '../src/health/tunnel-monitor.js';
import { tunnelMetricLines } from '../src/health/tunnel-metrics.js';
import { tunnelStatusRecord } from '../src/health/tunnel-status-record.js';
import { TunnelsShowArgumentError, tunnelsShow } from '../src/health/tunnels-show.js';
import { FakeClock, FakeUnderlay, peerAt } from './health-fakes.js';

function upMonitor() {
  const clock = new FakeClock();
  const underlay = new FakeUnderlay(clock);
  const a = new TunnelMonitor({ transport: underlay.attach('198.51.100.1'), clock, session: 7 });
  const b = new TunnelMonitor({ transport: underlay.attach('198.51.100.2'), clock, session: 8 });
  a.setPeers([peerAt('198.51.100.2', 'host-b'), peerAt('203.0.113.9', '', { external: true, host: undefined })]);
  b.setPeers([peerAt('198.51.100.1', 'host-a')]);
  for (let i = 0; i < 25; i++) {
    clock.advance(200);
    a.tick();
    b.tick();
  }
  return { a, clock };
}

test('tunnels/show renders an aligned table and a stable data shape', () => {
  const { a } = upMonitor();
  const { text, data } = tunnelsShow(
    { host: 'host-a', session: a.session, options: a.options, snapshots: () => a.snapshots() },
    [],
  );
  assert.equal(data.host, 'host-a');
  assert.equal(data.intervalMs, 1000);
  assert.equal(data.multiplier, 3);
  assert.equal(data.peers.length, 2);
  const [b, ext] = data.peers;
  assert.deepEqual(b.vtep, { address: '198.51.100.2', port: 4789 });
  assert.equal(b.state, 'up');
  assert.equal(b.host, 'host-b');
  assert.equal(b.vni, 100);
  assert.equal(b.reason, 'replies received');
  assert.ok(b.rtt !== null);
  assert.equal(ext.state, 'unmonitored');
  assert.equal(ext.host, null);
  const lines = text.split('\n');
  assert.match(lines[0], /^host host-a: 2 tunnel\(s\), probe every 1000 ms/);
  assert.match(lines[1], /^PEER\s+HOST\s+ENCAP\s+STATE/);
  // Columns line up: STATE starts at the same offset in every row.
  const col = lines[1].indexOf('STATE');
  assert.equal(lines[2].slice(col, col + 2), 'up');
  assert.equal(lines[3].slice(col, col + 11), 'unmonitored');
  assert.match(lines[3], /\(external\)/);
});

test('tunnels/show filters by peer address and rejects bad arguments with DVS_BAD_ARGUMENT', () => {
  const { a } = upMonitor();
  const source = { host: 'host-a', session: a.session, options: a.options, snapshots: () => a.snapshots() };
  assert.equal(tunnelsShow(source, ['203.0.113.9']).data.peers.length, 1);
  assert.throws(
    () => tunnelsShow(source, ['192.0.2.77']),
    (e: unknown) => e instanceof TunnelsShowArgumentError && e.code === 'DVS_BAD_ARGUMENT',
  );
  assert.throws(() => tunnelsShow(source, ['a', 'b']), /usage: tunnels\/show/);
});

test('the status record round-trips through the wire codec, with data-path counters merged', () => {
  const { a, clock } = upMonitor();
  const record = tunnelStatusRecord('host-a', a.snapshots(), clock.wall, (vtep) =>
    vtep.address === '198.51.100.2' ? { rxPackets: 5, txPackets: 6, rxBytes: 500, txBytes: 600 } : undefined,
  );
  const decoded = decodeTunnelStatus(encodeTunnelStatus(record));
  assert.ok(!isRecordError(decoded), String(decoded));
  assert.deepEqual(decoded, record);
  assert.equal(record.peers[0].rxPackets, 5);
  assert.equal(record.peers[1].txBytes, 0);
  assert.equal(record.peers[1].rtt, null);
});

test('metric lines: up gauge, one-hot state, RTT in seconds, loss ratio, probe counters', () => {
  const { a } = upMonitor();
  const text = tunnelMetricLines(a.snapshots());
  assert.match(text, /^# HELP dvs_tunnel_up /m);
  assert.match(text, /^# TYPE dvs_tunnel_up gauge$/m);
  assert.match(text, /^dvs_tunnel_up\{peer="198\.51\.100\.2:4789",encap="vxlan",peer_host="host-b"\} 1$/m);
  assert.doesNotMatch(text, /dvs_tunnel_up\{peer="203\.0\.113\.9/, 'no up gauge for unmonitored peers');
  assert.match(
    text,
    /^dvs_tunnel_state\{peer="203\.0\.113\.9:4789",encap="vxlan",peer_host="",state="unmonitored"\} 1$/m,
  );
  assert.match(
    text,
    /^dvs_tunnel_state\{peer="198\.51\.100\.2:4789",encap="vxlan",peer_host="host-b",state="down"\} 0$/m,
  );
  assert.match(text, /^dvs_tunnel_rtt_seconds\{.*stat="p99"\} [0-9.e-]+$/m);
  assert.match(text, /^dvs_tunnel_loss_ratio\{peer="198\.51\.100\.2:4789".*\} 0$/m);
  assert.match(text, /^# TYPE dvs_tunnel_probes_sent_total counter$/m);
  assert.ok(text.endsWith('\n'));
  assert.equal(tunnelMetricLines([]), '');
});
