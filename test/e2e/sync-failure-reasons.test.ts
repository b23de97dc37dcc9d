// Failures that last until someone acts, made for real against a loopback sshd: each is named in the log and
// in `inosync status` with its fix and the tools' own line, retried slowly, and never stops the agent or the
// other target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FailureKind } from '../../src/rsync/failure.js';
import type { HostStatus } from '../../src/status/types.js';
import type { SshHost } from '../helpers/sshd.js';
import { tempDir, type CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { converged, hostStatus, makeMirror, startAgent, type Mirror } from './harness.js';

interface SshSetup {
  /** The target directory on the host; default: the mirror's own. */
  dir?: string;
  identity?: string;
  /** ssh -o options (KEY=VALUE); default: the throw-away host's (no known_hosts check). */
  options?: string[];
  /** More agent arguments. */
  extra?: string[];
}

/**
 * Starts an agent on a mirror of one local and one ssh target, the ssh one set up as given, and waits until
 * the status names the ssh target's failure as `kind`. Returns the host's status then.
 */
async function failsWith(t: CleanupContext, kind: FailureKind, setup: (mirror: Mirror, host: SshHost) => SshSetup): Promise<{ mirror: Mirror; status: HostStatus }> {
  const mirror = await makeMirror(t, { local: 1, ssh: 1 });
  const host = mirror.hosts[0]!;
  const given = setup(mirror, host);
  const spec = host.spec(given.dir ?? mirror.dirs[1]!);
  const options = given.options ?? host.sshOptions.filter((_, i) => i % 2 === 1);
  const targetArgs = [
    '--target', mirror.dirs[0]!,
    '--target', spec, '--ssh-port', `${host.address}=${host.port}`, '--ssh-identity', `${host.address}=${given.identity ?? host.identity}`,
    ...options.flatMap((o) => ['--ssh-option', `${host.address}=${o}`]),
  ];
  writeFileSync(join(mirror.src, 'file'), 'content');
  const agent = await startAgent(t, { ...mirror, targetArgs }, ['--timeout', '3', ...(given.extra ?? [])]);
  const status = await waitFor(async () => {
    const s = await hostStatus(agent, spec);
    return s.cause?.kind === kind ? s : undefined;
  }, { what: `the status to name ${kind}`, timeoutMs: 20_000, intervalMs: 50 });
  const logged = agent.logs().find((l) => l.cause === kind && l.host === spec);
  assert.ok(logged, `the log names ${kind}`);
  assert.equal(logged.fix, status.cause!.fix);
  assert.ok(typeof logged.said === 'string' && logged.said.length > 0 && status.lastError!.includes(logged.said), 'the tools\' own line is in the log and the status');
  // The other target is not held back, and the agent goes on.
  writeFileSync(join(mirror.src, 'later'), 'still flowing');
  await converged({ ...mirror, dirs: [mirror.dirs[0]!] });
  assert.equal(agent.cli.child.exitCode, null, 'the agent keeps running');
  return { mirror, status };
}

test('an unknown host key is named, with accept-new as the fix', async (t) => {
  const { status } = await failsWith(t, 'unknown-host-key', () => {
    const knownHosts = join(tempDir(t), 'known_hosts');
    writeFileSync(knownHosts, '');
    return { options: [`UserKnownHostsFile=${knownHosts}`, 'LogLevel=ERROR'] };
  });
  assert.match(status.cause!.fix, /StrictHostKeyChecking=accept-new/);
  assert.match(status.lastError!, /Host key verification failed/);
});

test('a key the host refuses is named as a refused login', async (t) => {
  const { status } = await failsWith(t, 'auth-refused', () => {
    const identity = join(tempDir(t), 'wrong_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', identity]);
    return { identity };
  });
  assert.match(status.lastError!, /Permission denied \(publickey/);
});

test('a target whose parent directory is missing is named so', async (t) => {
  const { status } = await failsWith(t, 'missing-parent', (mirror) => ({ dir: join(mirror.dirs[1]!, 'no', 'such', 'dir') }));
  assert.match(status.lastError!, /No such file or directory/);
  assert.notEqual(status.state, 'down', 'the host answers: it is not waited for as unreachable');
});

test('a host without rsync on its PATH is named so', async (t) => {
  const { status } = await failsWith(t, 'no-remote-rsync', () => ({ extra: ['--rsync-opts=-a --rsync-path=/nonexistent/rsync'] }));
  assert.match(status.cause!.fix, /--rsync-path/);
});
