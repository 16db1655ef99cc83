/**
 * One HTTP request and its whole answer, over node:http or node:https: to the
 * URL's host, or through a unix socket (`socketPath`; the URL still gives the
 * Host header and the path). Rejects with the socket's error (its `code`:
 * ECONNREFUSED, ENOENT, …), an error named TimeoutError when no complete
 * answer came within timeoutMs, or an AbortError when `signal` aborts.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpExchangeOptions {
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  socketPath?: string;
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  text: string;
}

export function httpExchange(url: URL, options: HttpExchangeOptions): Promise<HttpAnswer> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: options.method,
      headers:
        options.body === undefined
          ? options.headers
          : { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
      socketPath: options.socketPath,
      signal: options.signal,
      // A connection per request: a CLI makes a few, and a pooled socket that the
      // server (or a lab's forwarder) closed in between would fail the next one.
      agent: false,
    });
    const timer = setTimeout(() => {
      const error = new Error(`no answer within ${options.timeoutMs} ms`);
      error.name = 'TimeoutError';
      req.destroy(error);
    }, options.timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    req.on('error', fail);
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end(options.body);
  });
}
