/**
 * A tiny TCP forwarder the lab runs inside the underlay namespace:
 *   node unix-forwarder.js <unix socket path> <tcp host> <tcp port>
 * Connections to the unix socket (reachable from any namespace: it is a file)
 * are piped to host:port inside the namespace. The lab's own process uses it
 * to reach the controller's HTTP API, which listens on the underlay.
 */
import { createServer, connect } from 'node:net';
import { rmSync } from 'node:fs';

function main(): void {
  const [path, host, portText] = process.argv.slice(2);
  const port = Number(portText);
  if (!path || !host || !Number.isInteger(port)) {
    console.error('usage: unix-forwarder <unix socket path> <tcp host> <tcp port>');
    process.exit(2);
  }
  rmSync(path, { force: true });
  const server = createServer((client) => {
    const upstream = connect(port, host);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  });
  server.listen(path);
  const stop = () => {
    server.close();
    rmSync(path, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
