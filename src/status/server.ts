// The agent's side of the status socket: a unix socket, mode 0600, in a directory only its owner can enter.
//
// One client must never take the agent down or lock out the next one: any request line gets an answer (an
// error for anything but {"type":"status"}), nothing a client sends can throw out of a handler, at most
// MAX_CLIENTS are served at once (Node closes the rest as they arrive, so a flood holds no descriptors of
// ours), and a client that is silent or slow for CLIENT_TIMEOUT_MS is dropped.
// Only a socket we own is ever removed: at start, a stale one at the path (see safety/socket-path.ts); at
// close, the very socket this server bound (same inode), never whatever has taken its name since. libuv
// unlinks the name it bound at close, by name: so the socket is bound under a fresh name beside the path,
// hard-linked to the path (which fails rather than replace anything there), and the fresh name removed.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmod, link, lstat, mkdir, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname } from 'node:path';
import { InosyncError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { isOurSocket, ourUid, sameInode } from '../safety/owned-files.js';
import { asideName, checkSocketPath } from '../safety/socket-path.js';
import { MAX_REQUEST_BYTES, parseRequest, type StatusAnswer } from './protocol.js';
import type { StatusSource } from './types.js';

/** Another agent already answers on the socket path. */
export class SocketBusyError extends InosyncError {}

export interface StatusServer {
  readonly path: string;
  close(): Promise<void>;
}

/** An operator and a scraper or two; a flood past this is closed on arrival. */
const MAX_CLIENTS = 8;
/** A client that has not sent its request line by then is dropped. */
const CLIENT_TIMEOUT_MS = 5000;

/** Creates the socket's directory 0700 when missing; refuses one that another user owns (a /tmp trap). */
async function prepareDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  const uid = ourUid();
  if (!info.isDirectory() || (info.uid !== uid && info.uid !== 0)) {
    throw new InosyncError(`the status socket's directory ${dir} is not a directory owned by this user`, 'Remove it, or give another path with --socket PATH.');
  }
}

/** Refuses when an agent already answers on `path`; a socket of ours nobody listens on is stale: it is removed. */
async function claimPath(path: string, found: Stats | undefined): Promise<void> {
  if (found === undefined) return;
  const live = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    probe.once('error', () => resolve(false));
  });
  if (live) {
    throw new SocketBusyError(`another inosync agent is already running (it answers on ${path})`, 'Stop it first (`inosync status` shows it), or give this agent its own --socket PATH.');
  }
  await unlinkIfSame(path, found);
}

/** Removes `path` only while it is still the socket of ours that `expected` describes. */
async function unlinkIfSame(path: string, expected: Stats): Promise<void> {
  const now = await lstat(path).catch(() => undefined);
  if (now === undefined || !isOurSocket(now) || !sameInode(now, expected)) return;
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

function answer(socket: Socket, reply: StatusAnswer): void {
  if (socket.writable) socket.end(`${JSON.stringify(reply)}\n`);
  else socket.destroy();
}

function serve(socket: Socket, source: StatusSource, logger: Logger): void {
  let request = '';
  let answered = false;
  const reply = (message: StatusAnswer): void => {
    answered = true;
    socket.removeAllListeners('data');
    answer(socket, message);
  };
  socket.setEncoding('utf8');
  socket.setTimeout(CLIENT_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', (error) => logger.debug({ err: error }, 'status client went away'));
  socket.on('data', (chunk: string) => {
    if (answered) return;
    request += chunk;
    const newline = request.indexOf('\n');
    if (newline === -1) {
      if (request.length > MAX_REQUEST_BYTES) reply({ ok: false, error: 'request too long' });
      return;
    }
    if (newline > MAX_REQUEST_BYTES) return reply({ ok: false, error: 'request too long' });
    const parsed = parseRequest(request.slice(0, newline));
    if ('error' in parsed) return reply({ ok: false, error: parsed.error });
    try {
      reply({ ok: true, status: source() });
    } catch (error) {
      logger.error({ err: error }, 'status snapshot failed');
      reply({ ok: false, error: String(error) });
    }
  });
}

export async function startStatusServer(path: string, source: StatusSource, logger: Logger): Promise<StatusServer> {
  const found = await checkSocketPath(path);
  await prepareDirectory(dirname(path));
  await claimPath(path, found);
  const clients = new Set<Socket>();
  const server: Server = createServer((socket) => {
    clients.add(socket);
    socket.once('close', () => clients.delete(socket));
    serve(socket, source, logger);
  });
  server.maxConnections = MAX_CLIENTS;
  const aside = asideName(path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(aside, () => resolve());
  });
  try {
    await chmod(aside, 0o600);
    await link(aside, path).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EEXIST'
        ? new SocketBusyError(`another inosync agent took ${path} as this one started`, 'Give each agent its own --socket PATH.', { cause: error })
        : error;
    });
  } catch (error) {
    server.close();
    throw error;
  } finally {
    await unlink(aside).catch(() => undefined);
  }
  const bound = await lstat(path);
  server.on('error', (error) => logger.error({ err: error, socket: path }, 'status socket failed'));
  // The socket must never keep the agent alive on its own.
  server.unref();
  let closed = false;
  return {
    path,
    async close() {
      if (closed) return;
      closed = true;
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const client of clients) client.destroy();
      await done;
      await unlinkIfSame(path, bound).catch(() => undefined);
    },
  };
}
