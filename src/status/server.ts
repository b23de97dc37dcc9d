// The agent's side of the status socket: a unix socket, mode 0600, in a directory only its owner can enter.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InosyncError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { MAX_REQUEST_BYTES, type StatusAnswer, type StatusRequest } from './protocol.js';
import type { StatusSource } from './types.js';

/** Another agent already answers on the socket path. */
export class SocketBusyError extends InosyncError {}

export interface StatusServer {
  readonly path: string;
  close(): Promise<void>;
}

/** Creates the socket's directory 0700 when missing; refuses one that another user owns (a /tmp trap). */
async function prepareDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  const uid = process.geteuid?.() ?? 0;
  if (!info.isDirectory() || (info.uid !== uid && info.uid !== 0)) {
    throw new InosyncError(`the status socket's directory ${dir} is not a directory owned by this user`, 'Remove it, or give another path with --socket PATH.');
  }
}

/** True when an agent already answers on `path`. A socket nobody listens on is stale: it is removed. */
async function claimPath(path: string): Promise<void> {
  const live = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    probe.once('error', () => resolve(false));
  });
  if (live) {
    throw new SocketBusyError(`another inosync agent is already running (it answers on ${path})`, 'Stop it first (`inosync status` shows it), or give this agent its own --socket PATH.');
  }
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

function answer(socket: Socket, reply: StatusAnswer): void {
  socket.end(`${JSON.stringify(reply)}\n`);
}

function serve(socket: Socket, source: StatusSource, logger: Logger): void {
  let request = '';
  socket.setEncoding('utf8');
  socket.on('error', (error) => logger.debug({ err: error }, 'status client went away'));
  socket.on('data', (chunk: string) => {
    request += chunk;
    if (request.length > MAX_REQUEST_BYTES) return answer(socket, { ok: false, error: 'request too long' });
    const newline = request.indexOf('\n');
    if (newline === -1) return;
    let parsed: Partial<StatusRequest>;
    try {
      parsed = JSON.parse(request.slice(0, newline)) as Partial<StatusRequest>;
    } catch {
      return answer(socket, { ok: false, error: 'request is not JSON' });
    }
    if (parsed.type !== 'status') return answer(socket, { ok: false, error: `unknown request type ${JSON.stringify(parsed.type)}` });
    try {
      answer(socket, { ok: true, status: source() });
    } catch (error) {
      logger.error({ err: error }, 'status snapshot failed');
      answer(socket, { ok: false, error: String(error) });
    }
  });
}

export async function startStatusServer(path: string, source: StatusSource, logger: Logger): Promise<StatusServer> {
  await prepareDirectory(dirname(path));
  await claimPath(path);
  const server: Server = createServer((socket) => serve(socket, source, logger));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE'
      ? new SocketBusyError(`another inosync agent took ${path} as this one started`, 'Give each agent its own --socket PATH.', { cause: error })
      : error));
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  server.on('error', (error) => logger.error({ err: error, socket: path }, 'status socket failed'));
  // The socket must never keep the agent alive on its own.
  server.unref();
  let closed = false;
  return {
    path,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await unlink(path).catch(() => undefined);
    },
  };
}
