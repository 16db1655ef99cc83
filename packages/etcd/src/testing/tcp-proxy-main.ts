/**
 * A TcpProxy as a process, for clients the test process cannot reach
 * directly (an agent inside a network namespace):
 *
 *   ip netns exec NS node tcp-proxy-main.js LISTEN_HOST:PORT TARGET_HOST:PORT
 *
 * PORT 0 picks a free port. Prints `listening HOST:PORT` once ready. SIGUSR1
 * pauses every connection (bytes held both ways), SIGUSR2 resumes them,
 * SIGTERM closes it.
 */
import { TcpProxy } from './tcp-proxy.js';

function hostPort(text: string | undefined, what: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(text ?? '');
  if (m === null) {
    process.stderr.write(
      `usage: tcp-proxy-main LISTEN_HOST:PORT TARGET_HOST:PORT (bad ${what}: ${text ?? 'missing'})\n`,
    );
    process.exit(2);
  }
  return { host: m[1]!, port: Number(m[2]) };
}

const listen = hostPort(process.argv[2], 'listen address');
const target = hostPort(process.argv[3], 'target address');
const proxy = await TcpProxy.start(target.port, target.host, { listenHost: listen.host, listenPort: listen.port });
process.on('SIGUSR1', () => {
  proxy.pause();
  process.stdout.write(`paused (${proxy.connections} connections)\n`);
});
process.on('SIGUSR2', () => {
  proxy.resume();
  process.stdout.write('resumed\n');
});
process.on('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
process.stdout.write(`listening ${proxy.host}:${proxy.port}\n`);
