// `--metrics HOST:PORT`: Prometheus text format over HTTP, on loopback unless a host is given.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { InosyncError } from '../errors.js';
import type { Logger } from '../log/logger.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** "9464", ":9464", "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464"; a missing host means 127.0.0.1. */
export function parseListenAddress(spec: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]:|([^:]*):)?(\d{1,5})$/.exec(spec.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65_535) {
    throw new InosyncError(`--metrics ${JSON.stringify(spec)} is not HOST:PORT`, 'Write it like 127.0.0.1:9464 or :9464 (loopback) or 0.0.0.0:9464 (every interface).', { exitCode: 2 });
  }
  return { host: match[1] ?? (match[2] || '127.0.0.1'), port };
}

export interface MetricsServer {
  readonly address: ListenAddress;
  close(): Promise<void>;
}

export async function startMetricsServer(listen: ListenAddress, registry: Registry, logger: Logger): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url !== '/metrics' && request.url !== '/')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => {
        logger.error({ err: error }, 'metrics collection failed');
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new InosyncError(`cannot serve metrics on ${listen.host}:${listen.port}: ${error.code ?? error.message}`, 'Pick a free port with --metrics HOST:PORT.', { exitCode: 1, cause: error })));
    server.listen(listen.port, listen.host, () => resolve());
  });
  server.unref();
  const bound = server.address() as AddressInfo;
  return {
    address: { host: bound.address, port: bound.port },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
