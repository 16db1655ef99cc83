// Canned controller answers shaped as docs/api.md describes them.
import type { TunnelStatusRecord } from '@dvs/wire';
import { sampleNetwork } from '@dvs/wire/testing';
import type { StatusView, FdbEntryView, FloodListView, HostView, NetworkView } from '@dvs/wire';

export const NOW = 1_700_000_100_000;

export const statusWithProblems: StatusView = {
  controller: { id: 'ctl-1', leader: true, leaderId: 'ctl-1', etcd: 'up' },
  hosts: { up: 2, down: 1, stale: 0 },
  networks: 1,
  fdb: { entries: 3, duplicates: 1, stale: 0 },
  invalidRecords: {},
  tunnels: { up: 1, down: 1, init: 0, unmonitored: 1 },
  problems: [
    { kind: 'host-down', host: 'host-c', message: 'host-c lease expired 40s ago' },
    { kind: 'tunnel-down', host: 'host-a', peer: '192.0.2.2:4789', message: 'host-a → 192.0.2.2:4789: probe timeout' },
  ],
};

export const statusOk: StatusView = { ...statusWithProblems, hosts: { up: 2, down: 0, stale: 0 }, problems: [] };

export const blue: NetworkView = sampleNetwork(100, {
  name: 'blue',
  externalVteps: [{ address: '203.0.113.9', port: 4789, description: 'tor-1' }],
  createdAt: NOW - 60_000,
  updatedAt: NOW - 60_000,
});

function host(name: string, address: string, state: HostView['state'] = 'up', ports: HostView['ports'] = []): HostView {
  return {
    host: name,
    state,
    since: NOW - 30_000,
    vtep: { address, port: 4789 },
    encaps: ['vxlan', 'gre-udp'],
    agentVersion: '0.1.0',
    startedAt: NOW - 30_000,
    ports,
    macs: ports.length,
  };
}

export const hosts: HostView[] = [
  host('host-a', '192.0.2.1', 'up', [
    { port: 'tap0', mode: 'access', bindings: [{ vni: 100, vlan: null }], state: 'up', macCount: 1 },
  ]),
  host('host-b', '192.0.2.2', 'up', [
    { port: 'tap0', mode: 'trunk', bindings: [{ vni: 100, vlan: 10 }], state: 'up', macCount: 1 },
  ]),
  host('host-c', '192.0.2.3', 'down'),
];

function entry(mac: string, hostName: string | null, address: string, extra: Partial<FdbEntryView> = {}): FdbEntryView {
  return {
    vni: 100,
    mac,
    host: hostName,
    vtep: { address, port: 4789 },
    seq: 1,
    ips: [],
    origin: hostName === null ? 'static' : 'report',
    moves: 0,
    duplicate: false,
    reason: '',
    updatedAt: NOW - 5_000,
    ageMs: 5_000,
    ...extra,
  };
}

export const fdb: FdbEntryView[] = [
  entry('02:00:00:00:00:01', 'host-a', '192.0.2.1', { ips: ['198.51.100.1'] }),
  entry('02:00:00:00:00:02', 'host-b', '192.0.2.2', {
    seq: 4,
    moves: 6,
    duplicate: true,
    reason: 'duplicate: 6 moves in 180 s (limit 5), frozen at host-b',
  }),
  entry('02:00:00:00:00:99', null, '203.0.113.9'),
];

export const flood: FloodListView[] = [
  {
    vni: 100,
    members: [
      { address: '192.0.2.1', port: 4789, host: 'host-a' },
      { address: '192.0.2.2', port: 4789, host: 'host-b' },
      { address: '203.0.113.9', port: 4789, host: null },
    ],
    updatedAt: NOW,
  },
];

export const tunnels: TunnelStatusRecord[] = [
  {
    host: 'host-a',
    updatedAt: NOW,
    peers: [
      {
        vtep: { address: '203.0.113.9', port: 4789 },
        host: null,
        encap: 'vxlan',
        state: 'unmonitored',
        rtt: null,
        lossPct: 0,
        lastChange: NOW - 60_000,
        reason: 'external peer',
        rxPackets: 0,
        txPackets: 0,
        rxBytes: 0,
        txBytes: 0,
      },
      {
        vtep: { address: '192.0.2.2', port: 4789 },
        host: 'host-b',
        encap: 'vxlan',
        state: 'down',
        rtt: { lastMs: 0.3, avgMs: 0.25, p99Ms: 0.9 },
        lossPct: 100,
        lastChange: NOW - 12_000,
        reason: 'probe timeout',
        rxPackets: 10,
        txPackets: 12,
        rxBytes: 1000,
        txBytes: 1200,
      },
    ],
  },
  {
    host: 'host-b',
    updatedAt: NOW,
    peers: [
      {
        vtep: { address: '192.0.2.1', port: 4789 },
        host: 'host-a',
        encap: 'vxlan',
        state: 'up',
        rtt: { lastMs: 0.21, avgMs: 0.25, p99Ms: 0.9 },
        lossPct: 0,
        lastChange: NOW - 50_000,
        reason: 'replies received',
        rxPackets: 25_000,
        txPackets: 1_500_000,
        rxBytes: 0,
        txBytes: 0,
      },
    ],
  },
];
