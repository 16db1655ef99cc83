import type { NetnsLab } from './netns-lab.js';

/**
 * Makes a VM out of a namespace and a TAP the agent holds: moves the TAP from
 * the host namespace into the VM namespace, brings it up with `addresses`
 * (CIDR). The agent keeps its file descriptor across the move.
 */
export async function plugVm(
  lab: NetnsLab,
  hostNs: string,
  tap: string,
  vmNs: string,
  addresses: string[],
): Promise<void> {
  await lab.moveLink(hostNs, tap, vmNs);
  for (const a of addresses) await lab.exec(vmNs, ['ip', 'addr', 'add', a, 'dev', tap]);
  await lab.exec(vmNs, ['ip', 'link', 'set', tap, 'up']);
}

/** ping from a namespace; true when at least one reply came back within the deadline. */
export async function pings(
  lab: NetnsLab,
  ns: string,
  target: string,
  count = 3,
  extra: string[] = [],
): Promise<boolean> {
  const r = await lab.exec(
    ns,
    ['ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', '1', '-w', String(count + 2), ...extra, target],
    {
      allowFailure: true,
    },
  );
  return r.code === 0;
}

/**
 * A 2-second iperf3 TCP run from `clientNs` to `serverAddress` (server started
 * in `serverNs`); returns received bits per second.
 */
export async function iperf3(
  lab: NetnsLab,
  serverNs: string,
  serverAddress: string,
  clientNs: string,
  seconds = 2,
): Promise<number> {
  const server = lab.spawn(serverNs, ['iperf3', '-s', '-1', '-B', serverAddress]);
  try {
    for (let attempt = 0; ; attempt++) {
      const r = await lab.exec(
        clientNs,
        ['iperf3', '-c', serverAddress, '-t', String(seconds), '-J', '--connect-timeout', '1000'],
        {
          allowFailure: true,
          timeoutMs: (seconds + 10) * 1000,
        },
      );
      let report: { error?: string; end?: { sum_received?: { bits_per_second: number } } } = {};
      try {
        report = JSON.parse(r.stdout) as typeof report;
      } catch {
        // Not JSON: judged by the exit code and text below.
      }
      const bps = report.end?.sum_received?.bits_per_second;
      if (r.code === 0 && report.error === undefined && bps !== undefined) return bps;
      // Retry only while the server is not listening yet; anything else is a failure.
      const refused = /refused|unable to connect|busy/i.test(`${report.error ?? ''} ${r.stdout} ${r.stderr}`);
      if (!refused || attempt >= 20)
        throw new Error(`iperf3 to ${serverAddress} failed (exit ${r.code}): ${(r.stdout + r.stderr).slice(0, 400)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  } finally {
    await lab.stop(server, 1000);
  }
}
