import { test } from 'node:test';
import assert from 'node:assert/strict';

// Every package's public surface loads from its built index (no reach into
// src/), and offers what the other packages and the operator's tools import
// from it: each named export is there, of the kind it must be.
const surfaces: Record<string, Record<string, 'function' | 'object' | 'string' | 'number'>> = {
  '@dvs/wire': {
    parseMac: 'function',
    formatMac: 'function',
    parseIpAddress: 'function',
    canonicalIpAddress: 'function',
    isValidOverlayMtu: 'function',
    ENCAPS: 'object',
    DEFAULT_ENCAP_PORTS: 'object',
    writeVxlanHeader: 'function',
    readGreUdpVni: 'function',
    encodeHost: 'function',
    decodeFdbEntry: 'function',
    KeyLayout: 'function',
    encodeAdminLine: 'function',
    ADMIN_SOCKET_DEFAULT_PATH: 'string',
  },
  '@dvs/netdev': {
    PacketBatch: 'function',
    openTap: 'function',
    openTunnelSocket: 'function',
    openDgramTunnelSocket: 'function',
    nativeAvailable: 'function',
    NetdevError: 'function',
  },
  '@dvs/netdev/testing': { FakeFrameDevice: 'function', FakeUdpNetwork: 'function', LabNamespace: 'function' },
  '@dvs/etcd': { createEtcdClient: 'function', KeyspaceFollower: 'function', Backoff: 'function' },
  '@dvs/etcd/testing': { EtcdServer: 'function', TcpProxy: 'function', ETCD_BINARY: 'string' },
  '@dvs/admin-client': { AdminClient: 'function', AdminCallError: 'function', AdminUnavailableError: 'function' },
  '@dvs/agent': {
    Agent: 'function',
    DataPath: 'function',
    loadConfig: 'function',
    validateConfig: 'function',
    startAgentEtcd: 'function',
    linuxDevices: 'function',
    AdminServer: 'function',
    CommandRegistry: 'function',
    HEADROOM: 'number',
  },
  '@dvs/controller': { Controller: 'function', ClusterView: 'function', computeTables: 'function' },
  '@dvs/cli': { runCli: 'function', buildProgram: 'function', generateCliDocs: 'function' },
  '@dvs/lab': { Lab: 'function', createLabCommand: 'function', ContinuousPing: 'function', migrateVm: 'function' },
  '@dvs/test-support': { waitFor: 'function' },
};

for (const [name, exports] of Object.entries(surfaces)) {
  test(`${name} loads from its public index with ${Object.keys(exports).join(', ')}`, async () => {
    const mod = (await import(name)) as Record<string, unknown>;
    for (const [symbol, kind] of Object.entries(exports)) {
      assert.equal(typeof mod[symbol], kind, `${name} exports ${symbol} (${kind})`);
    }
  });
}

test('the surfaces work, not only load: a MAC, an address and a VXLAN header round-trip through @dvs/wire', async () => {
  const wire = await import('@dvs/wire');
  assert.equal(wire.formatMac(wire.parseMac('02-00-5E-00-01-0A') as number), '02:00:5e:00:01:0a');
  assert.equal(wire.canonicalIpAddress('2001:DB8:0:0::1'), '2001:db8::1');
  const header = new Uint8Array(8);
  wire.writeVxlanHeader(header, 0, 4242);
  assert.equal(wire.readVxlanVni(header, 0, 8), 4242);
});
