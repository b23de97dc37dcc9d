// Restarts of a whole agent on a mirror (src/state/): a seeded tree, a first confirmed full sync, stops.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CleanupContext } from '../helpers/tmp.js';
import { converged, startAgent, type Agent, type LogLine, type Mirror } from './harness.js';

/** A small tree with something of each kind a restart must notice changed. */
export function seed(src: string): void {
  for (const dir of ['keep', 'old-name/deep', 'gone']) mkdirSync(join(src, dir), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(src, 'keep', `f${i}`), `keep ${i}\n`);
  writeFileSync(join(src, 'old-name', 'deep', 'inside'), 'moved with its directory\n');
  writeFileSync(join(src, 'gone', 'file'), 'deleted while down\n');
  writeFileSync(join(src, 'same-size'), 'AAAA');
  writeFileSync(join(src, 'mode'), 'mode changes\n');
}

/** Starts the agent and waits for its full sync to be confirmed (the record then holds the tree). */
export async function syncedOnce(t: CleanupContext, mirror: Mirror): Promise<Agent> {
  const agent = await startAgent(t, mirror);
  await agent.waitForLog((l) => l.msg === 'synced' && l.kind === 'full', 'the first full sync', 20_000);
  await converged(mirror);
  return agent;
}

export async function stop(agent: Agent, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  agent.cli.child.kill(signal);
  await agent.cli.exited;
}

/** A 'synced' log line of that kind. */
export const synced = (kind: 'full' | 'batch') => (l: LogLine): boolean => l.msg === 'synced' && l.kind === kind;
