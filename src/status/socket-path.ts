// Where the agent's status socket lives unless --socket says otherwise.
import { join } from 'node:path';

export interface SocketPathContext {
  uid: number;
  env: NodeJS.ProcessEnv;
}

/** /run/inosync/inosync.sock for root; $XDG_RUNTIME_DIR/inosync.sock or /tmp/inosync-UID/inosync.sock otherwise. */
export function defaultSocketPath(context: SocketPathContext = { uid: process.geteuid?.() ?? 0, env: process.env }): string {
  if (context.uid === 0) return '/run/inosync/inosync.sock';
  const runtime = context.env.XDG_RUNTIME_DIR;
  if (runtime && runtime.startsWith('/')) return join(runtime, 'inosync.sock');
  return join('/tmp', `inosync-${context.uid}`, 'inosync.sock');
}
