// `--metrics HOST:PORT`: Prometheus text format over HTTP, on loopback unless a host is given.
//
// Whoever can reach the port is a stranger: the server answers GET /metrics (and /) and nothing else, takes
// at most MAX_CLIENTS connections at once (Node closes the rest on arrival, so a flood holds no descriptors
// of ours, which the agent needs for its rsync children), and drops a client that is slow to send its
// request, silent on a kept-alive connection, or idle, within seconds.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { InosyncError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ListenAddress } from './listen-address.js';

export interface MetricsServer {
  readonly address: ListenAddress;
  close(): Promise<void>;
}

/** A few scrapers and a person with curl. */
const MAX_CLIENTS = 16;
// Generous: the cap already keeps a flood from costing descriptors; these only free the slots that slow or
// silent clients hold, and must not cut off a scraper of an agent whose loop is busy with a burst of changes.
const HEADERS_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 20_000;
const KEEP_ALIVE_TIMEOUT_MS = 5000;
const CHECK_EVERY_MS = 2000;
const MAX_URL_BYTES = 256;
const MAX_HEADER_BYTES = 8192;

export async function startMetricsServer(listen: ListenAddress, registry: Registry, logger: Logger): Promise<MetricsServer> {
  const server: Server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, connectionsCheckingInterval: CHECK_EVERY_MS }, (request, response) => {
    const url = request.url ?? '';
    if (request.method !== 'GET') {
      response.writeHead(405, { 'content-type': 'text/plain', allow: 'GET', connection: 'close' }).end('only GET\n');
      return;
    }
    if (url.length > MAX_URL_BYTES || (url !== '/metrics' && url !== '/')) {
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
  server.maxConnections = MAX_CLIENTS;
  // A connection with no request in flight and nothing said for this long is closed.
  server.setTimeout(REQUEST_TIMEOUT_MS, (socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new InosyncError(`cannot serve metrics on ${listen.host}:${listen.port}: ${error.code ?? error.message}`, 'Pick a free port with --metrics HOST:PORT.', { exitCode: 1, cause: error })));
    server.listen(listen.port, listen.host, () => resolve());
  });
  server.removeAllListeners('error');
  server.on('error', (error) => logger.error({ err: error }, 'metrics server failed'));
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
