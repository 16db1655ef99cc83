/**
 * The wire check: every datagram captured on an underlay must fit the
 * underlay MTU and decode cleanly in tshark — the encapsulation (VXLAN, or
 * GRE-in-UDP on its port) down to the inner frame, nothing malformed, no
 * expert finding of severity error. The benchmark (datapath-bench/wire-sample.ts)
 * and the e2e tests judge their captures with this one rule.
 *
 * Checksums are not validated (tshark's default): a capture on a veth shows
 * partial checksums that the missing NIC would have finished. Heuristic
 * dissectors of TCP and UDP payloads are off (the protocols tshark lists as
 * heuristics of those tables are disabled): the inner payload (iperf3's
 * random bytes) is no protocol, and a heuristic that takes it for one (Thrift
 * does) reports it "malformed" — a finding about the payload, not the wire.
 *
 * The parsing is pure (judgeUnderlayWire over tshark's text); runTsharkWire
 * runs tshark over a pcap and judges it.
 */
import { GRE_UDP_PORT, VXLAN_UDP_PORT } from '@dvs/wire';
import { runCommand } from './command-runner.js';

export type UnderlayEncap = 'vxlan' | 'gre-udp';

/** tshark's expert severity PI_ERROR (epan/proto.h): findings at or above it fail the check. */
export const EXPERT_SEVERITY_ERROR = 0x00800000;

/** The fields read per packet, in this order (each: every occurrence, outermost first). */
export const WIRE_FIELDS = [
  'frame.protocols',
  'ip.len',
  'tcp.len',
  '_ws.malformed',
  '_ws.expert.severity',
  '_ws.expert.message',
] as const;

export interface WireVerdict {
  encap: UnderlayEncap;
  mtu: number;
  /** Datagrams in the capture. */
  datagrams: number;
  /** Of them, decoded down to an inner TCP segment with payload. */
  carryingTcp: number;
  /** Largest outer IP length (bytes); 0 for an empty capture. */
  largestIpLength: number;
  /** Datagrams whose outer IP length exceeds the MTU. */
  overMtu: number;
  /** Datagrams tshark did not decode as the encapsulation with an inner Ethernet frame. */
  undecoded: number;
  /** Datagrams tshark found malformed or with an error-level expert finding. */
  decodeErrors: number;
  /** Up to 5 examples of what failed, for the report. */
  problems: string[];
  /** Everything within the MTU, decoded, no error, and the sample saw TCP payload. */
  pass: boolean;
}

/**
 * tshark's arguments to read `pcap` for the wire check (GRE-in-UDP decoded on
 * its port), with the `disabled` protocols (payloadHeuristics()) off.
 */
export function tsharkWireArgs(pcap: string, encap: UnderlayEncap, disabled: readonly string[] = []): string[] {
  const args = ['-r', pcap, '-n'];
  for (const p of disabled) args.push('--disable-protocol', p);
  if (encap === 'gre-udp') args.push('-d', `udp.port==${GRE_UDP_PORT},gre`);
  args.push('-T', 'fields', '-E', 'separator=\t', '-E', 'aggregator=|', '-E', 'occurrence=a');
  for (const f of WIRE_FIELDS) args.push('-e', f);
  return args;
}

/** The capture filter for the encapsulation's datagrams (both directions). */
export function underlayCaptureFilter(encap: UnderlayEncap): string {
  return `udp port ${encap === 'gre-udp' ? GRE_UDP_PORT : VXLAN_UDP_PORT}`;
}

function severityIsError(value: string): boolean {
  const n = Number(value);
  return Number.isFinite(n) ? n >= EXPERT_SEVERITY_ERROR : /error/i.test(value);
}

/**
 * Judges tshark's output (tsharkWireArgs) for a capture of `encap` datagrams
 * on an underlay with MTU `mtu`. Pure: the unit tests feed it text.
 */
export function judgeUnderlayWire(tsharkOutput: string, options: { mtu: number; encap: UnderlayEncap }): WireVerdict {
  const { mtu, encap } = options;
  // After the outer UDP: "vxlan:eth" or "gre:eth" (transparent Ethernet bridging).
  const carried = encap === 'gre-udp' ? ':udp:gre:eth' : ':udp:vxlan:eth';
  const verdict: WireVerdict = {
    encap,
    mtu,
    datagrams: 0,
    carryingTcp: 0,
    largestIpLength: 0,
    overMtu: 0,
    undecoded: 0,
    decodeErrors: 0,
    problems: [],
    pass: false,
  };
  const problem = (text: string) => {
    if (verdict.problems.length < 5) verdict.problems.push(text);
  };
  for (const line of tsharkOutput.split('\n')) {
    if (line.trim() === '') continue;
    const columns = line.split('\t');
    const field = (i: number) => (columns[i] ? columns[i].split('|') : []);
    const [protocols, ipLengths, tcpLengths, malformed, severities, messages] = WIRE_FIELDS.map((_, i) => field(i));
    const n = ++verdict.datagrams;
    const outerLength = Number(ipLengths[0]);
    if (!Number.isFinite(outerLength)) {
      verdict.undecoded++;
      problem(`datagram ${n}: no IPv4 header (${protocols[0] ?? '?'})`);
      continue;
    }
    verdict.largestIpLength = Math.max(verdict.largestIpLength, outerLength);
    if (outerLength > mtu) {
      verdict.overMtu++;
      problem(`datagram ${n}: IP length ${outerLength} > MTU ${mtu}`);
    }
    const stack = protocols[0] ?? '';
    const inner = stack.indexOf(carried);
    if (inner < 0) {
      verdict.undecoded++;
      problem(`datagram ${n}: not decoded as ${encap} (${stack})`);
    } else if (stack.slice(inner + carried.length).includes(':tcp') && tcpLengths.some((l) => Number(l) > 0)) {
      verdict.carryingTcp++;
    }
    const errors = severities.map((s, i) => ({ s, message: messages[i] ?? '' })).filter(({ s }) => severityIsError(s));
    if (malformed.length > 0 || errors.length > 0) {
      verdict.decodeErrors++;
      problem(`datagram ${n}: ${malformed.length > 0 ? 'malformed' : errors.map((e) => e.message).join('; ')}`);
    }
  }
  verdict.pass =
    verdict.datagrams > 0 &&
    verdict.carryingTcp > 0 &&
    verdict.overMtu === 0 &&
    verdict.undecoded === 0 &&
    verdict.decodeErrors === 0;
  if (verdict.datagrams === 0) problem('the capture holds no datagram');
  else if (verdict.carryingTcp === 0) problem('no datagram carried inner TCP payload');
  return verdict;
}

/** Protocols of the wire check's own layers: never disabled, whatever a listing says. */
const WIRE_LAYERS = new Set(['eth', 'ip', 'ipv6', 'arp', 'icmp', 'udp', 'tcp', 'vxlan', 'gre']);

/**
 * The protocols with an enabled heuristic on TCP or UDP payloads, from
 * `tshark -G heuristic-decodes` (lines "table<TAB>protocol<TAB>T|F"), once each.
 */
export function parseHeuristicDecodes(listing: string): string[] {
  const names = listing
    .split('\n')
    .map((l) => l.split('\t'))
    .filter(([table, name, enabled]) => (table === 'tcp' || table === 'udp') && name && enabled?.trim() === 'T')
    .map(([, name]) => name)
    .filter((name) => !WIRE_LAYERS.has(name));
  return [...new Set(names)];
}

let heuristics: Promise<string[]> | null = null;

/** The payload heuristics' protocols to turn off for this tshark (asked once per process). */
export function payloadHeuristics(): Promise<string[]> {
  heuristics ??= runCommand(['tshark', '-G', 'heuristic-decodes'], { timeoutMs: 60_000 }).then((r) =>
    parseHeuristicDecodes(r.stdout),
  );
  return heuristics;
}

/** Runs tshark over `pcap` and judges it (judgeUnderlayWire). */
export async function runTsharkWire(
  pcap: string,
  options: { mtu: number; encap: UnderlayEncap; signal?: AbortSignal },
): Promise<WireVerdict> {
  const r = await runCommand(['tshark', ...tsharkWireArgs(pcap, options.encap, await payloadHeuristics())], {
    timeoutMs: 120_000,
    signal: options.signal,
  });
  return judgeUnderlayWire(r.stdout, options);
}

/** One line for a verdict: "PASS 1987 datagrams (1954 with TCP), largest 1500 B ≤ MTU 1500, 0 decode errors". */
export function describeWireVerdict(v: WireVerdict): string {
  const head =
    `${v.pass ? 'PASS' : 'FAIL'} ${v.datagrams} datagrams (${v.carryingTcp} with inner TCP), ` +
    `largest IP ${v.largestIpLength} B ${v.overMtu === 0 ? '≤' : '>'} MTU ${v.mtu}, ` +
    `${v.undecoded} undecoded, ${v.decodeErrors} decode errors`;
  return v.problems.length === 0 ? head : `${head}: ${v.problems.join('; ')}`;
}
