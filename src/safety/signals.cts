// The process's signal listeners, in one room. Loading this module installs them, for good: the installed
// command (src/cli/launcher.cts) requires it in its first line, before it reads the bundle, and
// src/cli/main.ts imports it first, for direct runs. It is CommonJS so that the launcher can load it that
// early; the bundle holds a second copy, which finds the listeners already there (their state lives on
// globalThis) and installs nothing.
//
// Why: while no JavaScript listener exists, Node opens its inspector on SIGUSR1 (a debugger on
// 127.0.0.1:9229 that runs any code it is sent, as root, here), and SIGHUP's default action ends the process
// (status 129, which systemd does not restart). Node 20 has no --disable-sigusr1.
//
// Later code subscribes handlers here (onSignal) and unsubscribes them. A signal that arrives while nobody
// is subscribed to it:
//   SIGTERM, SIGINT  end the process as the signal's default action would: nothing that needs stopping has
//                    started yet (a command that owns work subscribes before it starts any);
//   SIGHUP, SIGUSR1  are kept, and handed once (however many came) to the next handler that subscribes to
//                    them: a reload or a resync asked for while the agent starts is done once it runs. They
//                    never end the process and never open the inspector.

export type GuardedSignal = 'SIGHUP' | 'SIGUSR1' | 'SIGTERM' | 'SIGINT';
export type SignalHandler = (signal: GuardedSignal) => void;

const GUARDED: readonly GuardedSignal[] = ['SIGHUP', 'SIGUSR1', 'SIGTERM', 'SIGINT'];
/** Signals whose default action is kept for a process that has not subscribed to them. */
const endsUnhandled = (signal: GuardedSignal): signal is 'SIGTERM' | 'SIGINT' => signal === 'SIGTERM' || signal === 'SIGINT';

interface Room {
  readonly handlers: Map<GuardedSignal, Set<SignalHandler>>;
  /** Signals that came with no handler, waiting for one. */
  readonly pending: Set<GuardedSignal>;
  /** The listener installed on `process` for each signal. */
  readonly listeners: Map<GuardedSignal, (signal: NodeJS.Signals) => void>;
}

const ROOM_KEY = Symbol.for('inosync.signals');

function room(): Room {
  const global = globalThis as typeof globalThis & { [ROOM_KEY]?: Room };
  const existing = global[ROOM_KEY];
  if (existing) return existing;
  const created: Room = { handlers: new Map(), pending: new Set(), listeners: new Map() };
  global[ROOM_KEY] = created;
  for (const signal of GUARDED) {
    const listener = (): void => deliver(created, signal);
    created.listeners.set(signal, listener);
    process.on(signal, listener);
  }
  closeEarlyInspector();
  return created;
}

function deliver(state: Room, signal: GuardedSignal): void {
  const handlers = state.handlers.get(signal);
  if (handlers && handlers.size > 0) {
    for (const handler of [...handlers]) handler(signal);
  } else if (endsUnhandled(signal)) {
    endBySignal(signal);
  } else {
    state.pending.add(signal);
  }
}

/**
 * A SIGUSR1 that came while Node itself was starting, before any line of ours could listen, has opened the
 * inspector: close it now (and once more after this tick, for a start still in flight). A debugger the user
 * asked for (--inspect in the command line or NODE_OPTIONS) is left alone.
 */
function closeEarlyInspector(): void {
  if (/(?:^|\s)--inspect(?:-brk|-wait)?(?:[=\s]|$)/.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`)) return;
  // Undocumented but present from Node 0.x to 24: stops the inspector and drops its sessions at once
  // (node:inspector's close() waits for a connected client to leave instead).
  const debugEnd = (process as NodeJS.Process & { _debugEnd?: () => void })._debugEnd;
  if (typeof debugEnd !== 'function') return;
  debugEnd.call(process);
  setImmediate(() => debugEnd.call(process)).unref();
}

/**
 * Calls `handler` for each `signal` from now on (and once now, after this tick, if one came while nobody
 * was subscribed). Returns the unsubscribe function.
 */
export function onSignal(signal: GuardedSignal, handler: SignalHandler): () => void {
  const state = room();
  let handlers = state.handlers.get(signal);
  if (!handlers) state.handlers.set(signal, (handlers = new Set()));
  handlers.add(handler);
  if (state.pending.delete(signal)) {
    setImmediate(() => { if (handlers.has(handler)) handler(signal); });
  }
  return () => { handlers.delete(handler); };
}

/** Ends the process the way `signal`'s default action does (for inotifywait's behaviour, and SIGTERM/SIGINT). */
export function endBySignal(signal: 'SIGHUP' | 'SIGTERM' | 'SIGINT'): void {
  const listener = room().listeners.get(signal);
  if (listener) process.off(signal, listener);
  process.kill(process.pid, signal);
}

room();
