import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderFdb } from '../src/render/fdb-view.js';
import { renderHosts } from '../src/render/hosts-view.js';
import { renderNetwork, renderNetworkList } from '../src/render/networks-view.js';
import { renderStatus } from '../src/render/status-view.js';
import { downTunnels, renderTunnels, sortTunnelRows, tunnelRows } from '../src/render/tunnels-view.js';
import { NOW, blue, fdb, flood, hosts, statusOk, statusWithProblems, tunnels } from './cluster-fixtures.js';

test('status puts problems first, worst first as the controller ordered them', () => {
  const text = renderStatus(statusWithProblems, false);
  const lines = text.split('\n');
  assert.match(lines[0], /^controller ctl-1 \(leader\), etcd up$/);
  assert.equal(lines[2], 'PROBLEMS (2)');
  assert.match(lines[3], /^ {2}host-down\s{4}host-c lease expired/);
  assert.match(lines[4], /^ {2}tunnel-down {2}host-a → 192\.0\.2\.2:4789: probe timeout/);
  assert.ok(text.indexOf('PROBLEMS') < text.indexOf('hosts:'), 'problems before the summary');
  assert.match(text, /^tunnels: {3}1 up, 1 down, 0 init, 1 unmonitored$/m);
  assert.match(text, /next: dvs tunnels/);
});

test('status without problems says so', () => {
  const text = renderStatus(statusOk, false);
  assert.match(text, /^no problems$/m);
  assert.doesNotMatch(text, /PROBLEMS/);
});

test('tunnels: down first, unmonitored last, with reason, RTT avg/p99, loss and traffic', () => {
  const rows = sortTunnelRows(tunnelRows(tunnels));
  assert.deepEqual(
    rows.map((r) => `${r.from}>${r.vtep.address}:${r.state}`),
    ['host-a>192.0.2.2:down', 'host-b>192.0.2.1:up', 'host-a>203.0.113.9:unmonitored'],
  );
  assert.equal(downTunnels(rows).length, 1);
  const lines = renderTunnels(rows, NOW, false).split('\n');
  assert.match(lines[0], /^HOST\s+PEER\s+PEER HOST\s+ENCAP\s+STATE\s+RTT ms\s+LOSS\s+RX\s+TX\s+SINCE\s+REASON$/);
  assert.match(
    lines[1],
    /^host-a\s+192\.0\.2\.2:4789\s+host-b\s+vxlan\s+down\s+0\.25\/0\.90\s+100%\s+10\s+12\s+12s ago\s+probe timeout$/,
  );
  assert.match(lines[2], /1\.5M/);
  assert.match(lines[3], /\(external\)\s+vxlan\s+unmonitored\s+-\s+-/);
  assert.match(lines.at(-1) ?? '', /^3 tunnel\(s\): 1 up, 1 down/);
  const stateCol = lines[0].indexOf('STATE');
  for (const l of lines.slice(1, 4)) assert.match(l.slice(stateCol), /^(down|up|unmonitored)/);
});

test('fdb rows show location, seq, age, moves, flags; duplicates explained below', () => {
  const text = renderFdb(fdb, false);
  const lines = text.split('\n');
  assert.match(lines[0], /^VNI\s+MAC\s+HOST\s+VTEP\s+SEQ\s+AGE\s+MOVES\s+FLAGS\s+IPS$/);
  assert.match(lines[1], /^100\s+02:00:00:00:00:01\s+host-a\s+192\.0\.2\.1:4789\s+1\s+5s\s+0\s+-\s+198\.51\.100\.1$/);
  assert.match(lines[2], /DUPLICATE/);
  assert.match(lines[3], /\(external\)\s+203\.0\.113\.9:4789.*static/);
  assert.match(text, /notes:\n {2}100 02:00:00:00:00:02: duplicate: 6 moves in 180 s/);
  assert.equal(renderFdb([], false), 'no FDB entries match');
});

test('hosts and networks', () => {
  const labelled = hosts.map((x, i) => (i === 0 ? { ...x, labels: { rack: 'r1', zone: 'pci' } } : x));
  const h = renderHosts(labelled, NOW, false).split('\n');
  assert.match(h[0], /^HOST\s+STATE\s+SINCE\s+VTEP\s+ENCAPS\s+PORTS\s+MACS\s+VERSION\s+LABELS$/);
  assert.match(h[1], /^host-a\s.*\srack=r1,zone=pci$/);
  assert.match(h[3], /^host-c\s+down\s+30s ago\s+192\.0\.2\.3:4789.*\s-$/);
  assert.match(renderHosts([], NOW, false), /no hosts registered/);
  const list = renderNetworkList([blue], false).split('\n');
  assert.match(
    list[1],
    /^100\s+blue\s+vxlan\s+1450\s+head-end\s+no\s+auto\s+sflow,ipfix\s+203\.0\.113\.9:4789\s+any host$/,
  );
  const restricted = renderNetworkList([{ ...blue, allowedHosts: ['host-a'], allowedLabels: ['zone=pci'] }], false);
  assert.match(restricted.split('\n')[1] ?? '', /\s+host-a,label zone=pci$/);
  const one = renderNetwork(blue, flood[0], false);
  assert.match(one, /^vni:\s+100$/m);
  assert.match(one, /^members:\s+any host$/m);
  assert.match(one, /external VTEPs:\n\s+VTEP\s+DESCRIPTION\n\s+203\.0\.113\.9:4789\s+tor-1/);
  assert.match(one, /flood list:[\s\S]*192\.0\.2\.2:4789\s+host-b[\s\S]*203\.0\.113\.9:4789\s+\(external\)/);
  assert.match(
    renderNetwork({ ...blue, externalVteps: [] }, null, false),
    /external VTEPs: none[\s\S]*flood list: empty/,
  );
});

test('a peer the agent could not name gets the host the controller has at that VTEP; external stays null', () => {
  const anonymous = tunnels.map((r) => ({ ...r, peers: r.peers.map((p) => ({ ...p, host: null })) }));
  const rows = tunnelRows(anonymous, hosts);
  assert.deepEqual(
    rows.map((r) => [r.from, r.vtep.address, r.host]),
    [
      ['host-a', '203.0.113.9', null],
      ['host-a', '192.0.2.2', 'host-b'],
      ['host-b', '192.0.2.1', 'host-a'],
    ],
  );
});
