/** The agent's `mirrors/show`: each mirror of the data path (datapath/mirror.ts) with its counters. */
import type { MirrorView } from '@dvs/wire';
import type { Datapaths } from '../dpif/datapaths.js';
import type { CommandRegistry } from './command-registry.js';

export function registerMirrorCommands(registry: CommandRegistry, dataPath: Datapaths): void {
  registry.register({
    name: 'mirrors/show',
    usage: 'mirrors/show',
    summary:
      'port mirrors on this host: sources, direction, filters, output (port, RSPAN VTEP or analyser sink) and copies made',
    minArgs: 0,
    maxArgs: 0,
    run: () => {
      const views = dataPath.mirrorViews();
      return { text: renderMirrors(views), data: views };
    },
  });
}

function renderMirrors(views: readonly MirrorView[]): string {
  if (views.length === 0) return 'no mirrors\n';
  const lines = views.map((v) => {
    const o = v.output;
    const output =
      o.kind === 'port'
        ? `port ${o.port}${o.present ? '' : ' (absent)'}`
        : o.kind === 'rspan'
          ? `vni ${o.vni} to ${o.vtep} (${o.encap})`
          : `analyser ${o.port} of vni ${o.vni}${o.present ? '' : ' (absent)'}`;
    const sources = [...v.sourcePorts, ...v.sourceVnis.map((n) => `vni ${n}`)].join(',') || '-';
    const filters = [
      v.srcMac === null ? '' : `src ${v.srcMac}`,
      v.dstMac === null ? '' : `dst ${v.dstMac}`,
      v.vlan === null ? '' : `vlan ${v.vlan}`,
      v.sampleEvery === 1 ? '' : `1-in-${v.sampleEvery}`,
    ]
      .filter((s) => s !== '')
      .join(' ');
    return `${v.name}  ${sources} ${v.direction} -> ${output}${filters === '' ? '' : `  [${filters}]`}  mirrored ${v.mirrored} (${v.mirroredBytes} B) dropped ${v.dropped}`;
  });
  return lines.join('\n') + '\n';
}
