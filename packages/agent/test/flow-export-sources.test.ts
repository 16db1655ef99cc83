// Which flow export settings are in force on a host: its own (config, admin
// socket) over the cluster's (etcd), the cluster's when it has none, off
// without either; a refused host setting changes nothing, a cluster setting
// this host cannot apply turns the exporter off here and says why. Real
// exporters and UDP sockets (to loopback), no collector needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IPFIX_DEFAULTS, SFLOW_DEFAULTS, type IpfixSettings, type SflowSettings } from '@dvs/wire';
import { CommandRegistry } from '../src/admin/command-registry.js';
import { DataPath } from '../src/datapath/index.js';
import { FlowExport } from '../src/flow-export/flow-export.js';
import { FlowExportSources } from '../src/flow-export/flow-export-sources.js';
import { registerFlowCommands } from '../src/flow-export/flow-commands.js';

const cluster: SflowSettings = { ...SFLOW_DEFAULTS, collectors: [{ host: '127.0.0.1', port: 16343 }], sampling: 64 };
const own: SflowSettings = { ...SFLOW_DEFAULTS, collectors: [{ host: '127.0.0.1', port: 26343 }], sampling: 8 };

function setup(): { sources: FlowExportSources; flows: FlowExport; warnings: string[]; registry: CommandRegistry } {
  const flows = new FlowExport({
    dataPath: new DataPath({ agingTimer: false }),
    agentAddress: '127.0.0.1',
    portCounters: () => ({}),
    encapOf: () => 'vxlan',
  });
  const warnings: string[] = [];
  const sources = new FlowExportSources(flows, (message, fields) => warnings.push(`${message}: ${fields.error}`));
  const registry = new CommandRegistry();
  registerFlowCommands(registry, sources);
  return { sources, flows, warnings, registry };
}

describe('flow export sources', () => {
  it('the cluster applies without a host setting; the host setting wins; clearing it falls back to the cluster', async () => {
    const { sources, flows } = setup();
    try {
      assert.equal(sources.sflowView().source, null);
      await sources.setClusterSflow(cluster);
      let v = sources.sflowView();
      assert.equal(v.source, 'cluster');
      assert.equal(v.settings?.sampling, 64);
      assert.deepEqual(
        v.collectors.map((c) => c.port),
        [16343],
      );

      v = await sources.setHostSflow(own);
      assert.equal(v.source, 'host');
      assert.equal(v.settings?.sampling, 8);
      // A cluster change while the host has its own: recorded and shown, not applied.
      await sources.setClusterSflow({ ...cluster, sampling: 128 });
      v = sources.sflowView();
      assert.equal(v.source, 'host');
      assert.equal(v.settings?.sampling, 8);
      assert.equal((v.cluster as SflowSettings).sampling, 128);

      v = await sources.setHostSflow(null);
      assert.equal(v.source, 'cluster');
      assert.equal(v.settings?.sampling, 128);

      await sources.setClusterSflow(null);
      v = sources.sflowView();
      assert.equal(v.source, null);
      assert.equal(v.settings, null);
    } finally {
      flows.close();
    }
  });

  it("the host's off overrides the cluster's", async () => {
    const { sources, flows } = setup();
    try {
      await sources.setClusterSflow(cluster);
      const v = await sources.setHostSflow('off');
      assert.equal(v.source, null);
      assert.equal(v.host, 'off');
      assert.equal(v.settings, null, 'no export on this host');
      await sources.setClusterSflow({ ...cluster, sampling: 2 });
      assert.equal(sources.sflowView().settings, null, 'still off after a cluster change');
    } finally {
      flows.close();
    }
  });

  it('a refused host setting changes nothing: the cluster stays in force', async () => {
    const { sources, flows, registry } = setup();
    try {
      await sources.setClusterSflow(cluster);
      const before = JSON.stringify(sources.sflowView());
      await assert.rejects(sources.setHostSflow({ ...own, sampling: 0 }), /sflow\.sampling/);
      const r = await registry.dispatch({ id: 1, command: 'sflow/set', args: ['collector.invalid'] });
      assert.equal(r.ok, false);
      assert.equal((r as { error: { code: string } }).error.code, 'DVS_COLLECTOR_UNRESOLVED');
      assert.equal(JSON.stringify(sources.sflowView()), before);
    } finally {
      flows.close();
    }
  });

  it('a cluster setting this host cannot resolve: off here, the problem shown, applied once it can be', async () => {
    const { sources, flows, warnings, registry } = setup();
    try {
      await sources.setClusterSflow(cluster);
      await sources.setClusterSflow({ ...cluster, collectors: [{ host: 'collector.invalid', port: 6343 }] });
      const v = sources.sflowView();
      assert.equal(v.source, null);
      assert.equal(v.settings, null);
      assert.match(v.clusterProblem ?? '', /collector\.invalid/);
      assert.equal(warnings.length, 1);
      const shown = await registry.dispatch({ id: 2, command: 'sflow/show', args: [] });
      assert.match((shown as { text: string }).text, /refused on this host: .*collector\.invalid/);
      await sources.setClusterSflow(cluster);
      assert.equal(sources.sflowView().source, 'cluster');
      assert.equal(sources.sflowView().clusterProblem, null);
    } finally {
      flows.close();
    }
  });

  it('IPFIX follows the same precedence, through the admin commands', async () => {
    const { sources, flows, registry } = setup();
    try {
      const clusterIpfix: IpfixSettings = { ...IPFIX_DEFAULTS, collectors: [], cacheSize: 1024 };
      await sources.setClusterIpfix(clusterIpfix);
      assert.equal(sources.ipfixView().source, 'cluster');
      assert.equal(flows.caching, true);
      const set = await registry.dispatch({ id: 3, command: 'ipfix/set', args: ['cache-only', 'cache=2048'] });
      assert.equal(set.ok, true, JSON.stringify(set));
      assert.equal(sources.ipfixView().source, 'host');
      assert.equal(sources.ipfixView().settings?.cacheSize, 2048);
      const cleared = await registry.dispatch({ id: 4, command: 'ipfix/clear', args: [] });
      assert.equal(cleared.ok, true);
      assert.match((cleared as { text: string }).text, /source: the cluster/);
      assert.equal(sources.ipfixView().settings?.cacheSize, 1024);
    } finally {
      flows.close();
    }
  });
});
