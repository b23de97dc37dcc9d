// -d: the monitor goes on in a detached copy of this process (new session, stdout to /dev/null, same working
// directory, so relative paths keep their meaning); the foreground process returns once the copy has set its
// watches, with its status: 0, or 1 when the copy failed first (its messages are shown here).
import type { Readable } from 'node:stream';
import type { TextOut } from './sinks.js';

/** Set in the detached copy's environment: it is the daemon, and tells its parent when it is ready. */
export const DAEMON_ENV = 'INOSYNC_WATCH_DAEMON';

/** The message a daemon sends its parent over IPC when its watches are set. */
export const READY = 'ready';

export interface DaemonCommand {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The daemon reads --fromfile - from this process's stdin. */
  inheritStdin: boolean;
  stderr: TextOut;
}

export function startDaemon(command: DaemonCommand): Promise<number> {
  // Loaded here, not imported: every `inosync watch` would pay 5 ms at start for it (see syslogSink).
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child = spawn(command.file, command.args, {
    detached: true,
    shell: false,
    env: { ...command.env, [DAEMON_ENV]: '1' },
    stdio: [command.inheritStdin ? 'inherit' : 'ignore', 'ignore', 'pipe', 'ipc'],
  });
  const stderr = child.stderr as Readable;
  stderr.on('data', (chunk: Buffer) => command.stderr.write(chunk));
  return new Promise((resolve) => {
    child.on('message', (message) => {
      if (message !== READY) return;
      stderr.destroy();
      if (child.connected) child.disconnect(); // the daemon may have let go of the channel first
      child.unref();
      resolve(0);
    });
    child.on('error', (error) => {
      command.stderr.write(`cannot start the daemon: ${error.message}\n`);
      resolve(1);
    });
    // 'close', not 'exit': its last messages (why it failed) may still be in the pipe when it exits.
    child.on('close', (code) => resolve(code === 0 || code === null ? 1 : code));
  });
}
