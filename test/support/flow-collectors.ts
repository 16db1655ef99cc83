/**
 * Flow collectors from Debian for the flow export e2e tests, run in a
 * lab's underlay namespace: pmacct's sfacctd (sFlow, print plugin to CSV),
 * nfdump's nfcapd (IPFIX, read back with `nfdump -R`), tcpdump captures for
 * tshark. Each is stopped by its PID (stopAll), also when a test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, devices, underlayNamespace, type VmState } from '@dvs/lab';
import { waitFor } from '@dvs/test-support';
import { waitPidExit } from './lab-vms.js';
import { run } from './run-command.js';

export class FlowCollectors {
  private readonly children: ChildProcess[] = [];

  /** `address`: the collectors' address in the underlay namespace; `dir`: their files and logs. */
  constructor(
    private readonly lab: Lab,
    readonly address: string,
    readonly dir: string,
  ) {}

  /** Starts `argv` in the underlay namespace (ip netns exec execs it: the child's pid is the program's). */
  start(argv: string[], log: string): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', underlayNamespace(this.lab.id), ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', () => writeFileSync(join(this.dir, log), output));
    this.children.push(child);
    return child;
  }

  async stop(c: ChildProcess): Promise<void> {
    if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
    c.kill('SIGTERM');
    await waitPidExit(c.pid);
  }

  async stopAll(): Promise<void> {
    for (const c of this.children) await this.stop(c);
  }

  async listening(port: number): Promise<void> {
    await waitFor(
      `a collector listening on udp ${port}`,
      async () => (await this.lab.exec('ul', ['ss', '-Hlun', `sport = :${port}`])).stdout.includes(`:${port}`),
      15_000,
      100,
    );
  }

  /** nfcapd writing to `<dir>/<name>`; read it with `nfdump -R` once stopped. */
  async nfcapd(port: number, name = 'nfcapd'): Promise<{ child: ChildProcess; dir: string }> {
    const dir = join(this.dir, name);
    await run(['mkdir', '-p', dir]);
    const child = this.start(
      ['nfcapd', '-w', dir, '-b', this.address, '-p', String(port), '-t', '3600'],
      `${name}.log`,
    );
    await this.listening(port);
    return { child, dir };
  }

  /** sfacctd printing `aggregate` (renormalized by the sampling rate) as CSV to `<dir>/<name>.csv` every second. */
  async sfacctd(port: number, aggregate: string, name = 'sfacctd'): Promise<{ child: ChildProcess; csv: string }> {
    const csv = join(this.dir, `${name}.csv`);
    const conf = join(this.dir, `${name}.conf`);
    writeFileSync(
      conf,
      [
        `sfacctd_ip: ${this.address}`,
        `sfacctd_port: ${port}`,
        'sfacctd_renormalize: true',
        'plugins: print',
        `aggregate: ${aggregate}`,
        'print_output: csv',
        `print_output_file: ${csv}`,
        'print_output_file_append: true',
        'print_refresh_time: 1',
        '',
      ].join('\n'),
    );
    const child = this.start(['sfacctd', '-f', conf], `${name}.log`);
    await this.listening(port);
    return { child, csv };
  }

  /** tcpdump on the underlay bridge into `<dir>/<file>`, for tshark; returns once it writes. */
  async capture(file: string, filter: string): Promise<{ child: ChildProcess; pcap: string }> {
    const pcap = join(this.dir, file);
    const child = this.start(
      ['tcpdump', '-i', devices.underlayBridge(this.lab.id), '-U', '-w', pcap, filter],
      `${file}.log`,
    );
    await waitFor('tcpdump capturing', () => readdirSync(this.dir).includes(file), 10_000, 100);
    return { child, pcap };
  }
}

/**
 * The flow export e2e tests' lab: two dvs hosts with one VM each in `vni`
 * (and one more in each of `moreVnis`), collectors in its underlay at `address`.
 */
export class FlowLab {
  private constructor(
    readonly lab: Lab,
    readonly collectors: FlowCollectors,
    private readonly dir: string,
  ) {}

  static async up(vni: number, address: string, moreVnis: readonly number[] = []): Promise<FlowLab> {
    const dir = mkdtempSync(join(tmpdir(), 'dvs-flow-e2e-'));
    try {
      const lab = await Lab.up({
        spec: {
          hosts: 2,
          vmsPerHost: 1 + moreVnis.length,
          kernelHosts: 0,
          networks: [vni, ...moreVnis].map((v) => ({ vni: v, encap: 'vxlan' as const })),
        },
      });
      return new FlowLab(lab, new FlowCollectors(lab, address, dir), dir);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The VM on `host` (in `vni`: default the first network's). */
  vmOn(host: string, vni?: number): VmState {
    return this.lab.state.vms.find((v) => v.host === host && (vni === undefined || v.vni === vni))!;
  }

  /** Stops the collectors, takes the lab down (asserting it left nothing behind), removes the files. */
  async down(): Promise<void> {
    await this.collectors.stopAll();
    const problems = await this.lab.down();
    rmSync(this.dir, { recursive: true, force: true });
    assert.deepEqual(problems, [], 'teardown left something behind');
  }
}

/** Brings a FlowLab up before the file's tests and down after them; the getter gives it to the tests. */
export function useFlowLab(vni: number, address: string, moreVnis: readonly number[] = []): () => FlowLab {
  let flowLab: FlowLab | null = null;
  before(async () => {
    flowLab = await FlowLab.up(vni, address, moreVnis);
  });
  after(async () => {
    await flowLab?.down();
  });
  return () => flowLab!;
}

/** tshark's fields of each packet matching `filter`: one row per packet, each field's occurrences. */
export async function tsharkFields(pcap: string, filter: string, fields: string[]): Promise<string[][][]> {
  const args = [
    '-r',
    pcap,
    '-n',
    '-Y',
    filter,
    '-T',
    'fields',
    '-E',
    'separator=\t',
    '-E',
    'aggregator=|',
    '-E',
    'occurrence=a',
  ];
  for (const f of fields) args.push('-e', f);
  const r = await run(['tshark', ...args], { timeoutMs: 60_000 });
  return r.stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split('\t').map((c) => (c === '' ? [] : c.split('|'))));
}
