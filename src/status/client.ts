// `inosync status`'s side of the socket: ask once, with a deadline.
import { createConnection } from 'node:net';
import { InosyncError } from '../errors.js';
import type { StatusAnswer } from './protocol.js';
import type { AgentStatus } from './types.js';

/** Exit code of `inosync status` when no agent answers. */
export const NO_AGENT_EXIT_CODE = 3;

export async function queryStatus(path: string, timeoutMs = 5000): Promise<AgentStatus> {
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = createConnection(path);
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new InosyncError(`the agent on ${path} did not answer within ${timeoutMs} ms`, 'It may be stuck; see its log (journalctl -u inosync), or restart it.', { exitCode: 1 }));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify({ type: 'status' })}\n`));
    socket.on('data', (chunk: string) => { received += chunk; });
    socket.on('end', () => { clearTimeout(timer); resolve(received); });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
        reject(new InosyncError(
          `no inosync agent is running (nothing answers on ${path})`,
          'Start one (`inosync sync --config FILE`, or `systemctl start inosync`), or point at its socket with --socket PATH.',
          { exitCode: NO_AGENT_EXIT_CODE, cause: error },
        ));
      } else if (error.code === 'EPIPE' || error.code === 'ECONNRESET') {
        reject(busy(path, error));
      } else if (error.code === 'EACCES') {
        reject(new InosyncError(`permission denied on ${path}`, 'The socket is readable by the agent\'s user only: run `inosync status` as that user (sudo for the system service).', { exitCode: 1, cause: error }));
      } else {
        reject(error);
      }
    });
  });
  if (raw === '') throw busy(path);
  const reply = JSON.parse(raw) as StatusAnswer;
  if (!reply.ok) throw new InosyncError(`the agent refused the status request: ${reply.error}`, 'Make sure `inosync status` and the agent are the same version.');
  return reply.status;
}

/** The agent closed the connection unanswered: every client slot it has (a few) is taken. */
function busy(path: string, cause?: unknown): InosyncError {
  return new InosyncError(`the agent on ${path} closed the connection without an answer: it serves a few clients at a time, and all were busy`, 'Try again in a few seconds; if it persists, see who holds the socket open (ss -xp).', { exitCode: 1, cause });
}
