import { execFileSync } from 'node:child_process';
import type { LabNamespace } from './lab-namespace.js';

export interface VethAcrossOptions {
  /** The MTU of both ends (the kernel's default, 1500, when absent). */
  mtu?: number;
  /** Also give the ends 2001:db8::1/64 and ::2/64 (IPv6 turned back on for them, no DAD). */
  ipv6?: boolean;
}

/**
 * Joins two namespaces by a veth pair, `veth0` in `a` with 198.51.100.1/24
 * and `veth1` in `b` with 198.51.100.2/24, both up: the underlay of the
 * socket tests. The devices go with their namespaces' dispose().
 */
export function vethAcross(a: LabNamespace, b: LabNamespace, options: VethAcrossOptions = {}): void {
  const mtu = options.mtu === undefined ? [] : ['mtu', String(options.mtu)];
  execFileSync('ip', [
    '-n',
    a.name,
    'link',
    'add',
    'veth0',
    ...mtu,
    'type',
    'veth',
    'peer',
    'name',
    'veth1',
    ...mtu,
    'netns',
    b.name,
  ]);
  for (const [ns, dev, last] of [
    [a, 'veth0', 1],
    [b, 'veth1', 2],
  ] as const) {
    if (options.ipv6 === true) {
      execFileSync('ip', ['netns', 'exec', ns.name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=0']);
      execFileSync('ip', ['netns', 'exec', ns.name, 'sysctl', '-qw', `net.ipv6.conf.${dev}.disable_ipv6=0`]);
      ns.ip('addr', 'add', `2001:db8::${last}/64`, 'dev', dev, 'nodad');
    }
    ns.ip('addr', 'add', `198.51.100.${last}/24`, 'dev', dev);
    ns.ip('link', 'set', dev, 'up');
  }
}
