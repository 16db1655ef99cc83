/**
 * `dvs-agent --check`: what a valid configuration will do, in a few lines,
 * without starting anything (no TAP, socket or etcd connection). An invalid
 * one never gets here: loadConfig throws its ConfigError first (exit 2).
 */
import type { AgentConfig } from './agent-config.js';

export interface CheckFacts {
  /** The native addon (batched UDP, TAP I/O) loads with this node. */
  nativeAddon: boolean;
}

export function describeCheckedConfig(config: AgentConfig, facts: CheckFacts): string {
  const networks = config.networks.map((n) => `${n.vni} (${n.encap}, mtu ${n.mtu})`);
  return [
    `configuration valid: host ${config.host}, VTEP ${config.vtep.address}`,
    `networks: ${networks.length > 0 ? networks.join(', ') : 'none configured (from etcd only)'}`,
    `ports: ${config.ports.length > 0 ? config.ports.map((p) => `${p.name} (${p.plug}${p.persistent ? ', persistent' : ''})`).join(', ') : 'none configured'}`,
    `state file: ${config.stateFile ?? 'off (ports added at run time are not kept)'}`,
    `control plane: ${config.etcd ? `etcd ${config.etcd.endpoints.join(',')} prefix ${config.etcd.prefix}` : 'none (static configuration)'}`,
    `admin socket: ${config.adminSocket}`,
    `native addon: ${facts.nativeAddon ? 'loads' : 'NOT available: tunnels would fall back to node:dgram'}`,
    '',
  ].join('\n');
}
