// `--metrics HOST:PORT` as a value: parsed with the rest of the command line, apart from the server
// (src/metrics/server.ts), which, with node:http, is loaded only by an agent that serves metrics.
import { InosyncError } from '../errors.js';

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
