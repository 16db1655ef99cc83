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

/** What a finished iperf3 TCP run reports (the end section of its JSON). */
export interface Iperf3Result {
  /** Bytes the client wrote, and the bytes the server counted before the test ended. */
  bytesSent: number;
  bytesReceived: number;
  /** Received bits per second. */
  bitsPerSecond: number;
}

/**
 * A 2-second iperf3 TCP run from `clientNs` to `serverAddress` (server started
 * in `serverNs`): the throughput. A run without its end report is a failure.
 * iperf3 stops counting at the end of the test with data still in flight, so
 * its byte counts are no proof of a complete transfer: tcpTransfer is.
 */
export async function iperf3(
  lab: NetnsLab,
  serverNs: string,
  serverAddress: string,
  clientNs: string,
  seconds = 2,
): Promise<Iperf3Result> {
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
      let report: {
        error?: string;
        end?: { sum_sent?: { bytes: number }; sum_received?: { bytes: number; bits_per_second: number } };
      } = {};
      try {
        report = JSON.parse(r.stdout) as typeof report;
      } catch {
        // Not JSON: judged by the exit code and text below.
      }
      const sent = report.end?.sum_sent;
      const received = report.end?.sum_received;
      if (r.code === 0 && report.error === undefined && sent !== undefined && received !== undefined) {
        return { bytesSent: sent.bytes, bytesReceived: received.bytes, bitsPerSecond: received.bits_per_second };
      }
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

/** The byte count and SHA-256 of a TCP stream, as one side saw it. */
export interface StreamDigest {
  bytes: number;
  sha256: string;
}

const SINK = `
  const [address, port] = process.argv.slice(1);
  const hash = require('node:crypto').createHash('sha256');
  let bytes = 0;
  const server = require('node:net').createServer((c) => {
    c.on('data', (d) => { bytes += d.length; hash.update(d); });
    c.on('end', () => { process.stdout.write(JSON.stringify({ bytes, sha256: hash.digest('hex') })); c.end(); server.close(); });
  });
  server.listen(Number(port), address);
`;

const SOURCE = `
  const [address, port, total] = process.argv.slice(1);
  const hash = require('node:crypto').createHash('sha256');
  const chunk = Buffer.alloc(65536);
  const attempt = (left) => {
    const s = require('node:net').connect(Number(port), address);
    s.once('error', (e) => (e.code === 'ECONNREFUSED' && left > 0 ? setTimeout(() => attempt(left - 1), 100) : (console.error(e.message), process.exit(1))));
    s.once('connect', async () => {
      let sent = 0;
      while (sent < Number(total)) {
        const n = Math.min(chunk.length, Number(total) - sent);
        for (let i = 0; i < n; i++) chunk[i] = (sent + i) * 7 & 255;
        const part = chunk.subarray(0, n);
        hash.update(part);
        sent += n;
        if (!s.write(Buffer.from(part))) await new Promise((r) => s.once('drain', r));
      }
      s.end(() => process.stdout.write(JSON.stringify({ bytes: sent, sha256: hash.digest('hex') })));
    });
  };
  attempt(50);
`;

/**
 * Sends `bytes` of a known pattern over TCP from `clientNs` to
 * `serverAddress` (a sink started in `serverNs`) and returns what each side
 * counted: a complete transfer is the same byte count and SHA-256 on both.
 */
export async function tcpTransfer(
  lab: NetnsLab,
  serverNs: string,
  serverAddress: string,
  clientNs: string,
  bytes = 16 * 1024 * 1024,
): Promise<{ sent: StreamDigest; received: StreamDigest }> {
  const port = '5299';
  const sink = lab.exec(serverNs, [process.execPath, '-e', SINK, serverAddress, port], { timeoutMs: 120_000 });
  const source = await lab.exec(clientNs, [process.execPath, '-e', SOURCE, serverAddress, port, String(bytes)], {
    timeoutMs: 120_000,
  });
  const received = await sink;
  return {
    sent: JSON.parse(source.stdout) as StreamDigest,
    received: JSON.parse(received.stdout) as StreamDigest,
  };
}
