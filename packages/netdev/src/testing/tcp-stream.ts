/**
 * One bulk TCP transfer between two network namespaces, for the offload tests
 * and the benchmark: the ends run as child processes inside the namespaces
 * (`ip netns exec`), so their TCP stacks (with TSO/GSO as the kernel does it)
 * are the ones that talk through our devices.
 *
 *   node tcp-stream.js recv <address> <port>            listens, prints "listening",
 *                                                      then {"bytes","sha256"} of everything received
 *   node tcp-stream.js send <address> <port> <bytes>    connects, sends <bytes> of random data,
 *                                                      prints {"bytes","sha256"} of what it sent
 */
import { createHash, randomFillSync } from 'node:crypto';
import { createConnection, createServer } from 'node:net';

const [mode, address, portText, bytesText] = process.argv.slice(2);
const port = Number(portText);

function report(bytes: number, hash: ReturnType<typeof createHash>): void {
  process.stdout.write(`${JSON.stringify({ bytes, sha256: hash.digest('hex') })}\n`);
}

if (mode === 'recv') {
  const server = createServer((socket) => {
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    socket.on('end', () => {
      report(bytes, hash);
      server.close();
    });
    socket.on('error', (err) => {
      process.stderr.write(`recv: ${err.message}\n`);
      process.exit(1);
    });
  });
  server.listen(port, address, () => process.stdout.write('listening\n'));
} else if (mode === 'send') {
  const total = Number(bytesText);
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(256 * 1024);
  let sent = 0;
  const socket = createConnection({ host: address, port }, () => {
    const pump = (): void => {
      while (sent < total) {
        const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
        randomFillSync(piece);
        hash.update(piece);
        sent += piece.length;
        // write() copies nothing: the next fill must wait for a fresh buffer.
        if (!socket.write(Buffer.from(piece))) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end(() => report(sent, hash));
    };
    pump();
  });
  socket.on('error', (err) => {
    process.stderr.write(`send: ${err.message}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write(`usage: tcp-stream.js recv <address> <port> | send <address> <port> <bytes>\n`);
  process.exit(2);
}
