// Why a target fails, in the tools' own words and ours: the first error line rsync or ssh printed, and,
// for the failures that last until someone acts (a key, a directory, a disk), what they are and the fix.
//
//   stderr of rsync / the ssh master's log ──► diagnose() ──► { said, cause?: { kind, summary, fix } }
//
// The table below is the one place that knows these failures. A failure with a cause is not worth a fast
// retry (the host queue waits its longest delay), but never given up: the fix is made on the host, often
// without telling us. A failure without one (a dropped connection, a vanished file) is retried as usual.
// Patterns match the C locale texts of OpenSSH and rsync 3.x (strerror texts with rsync's "(errno)").

export type FailureKind = 'unknown-host-key' | 'auth-refused' | 'missing-parent' | 'read-only' | 'full' | 'permission-denied' | 'no-remote-rsync';

export interface FailureCause {
  kind: FailureKind;
  /** What is wrong, in a few words. */
  summary: string;
  /** What to do about it. */
  fix: string;
}

export interface Diagnosis {
  /** The tools' first error line (empty when they said nothing). */
  said: string;
  /** Set for a failure that lasts until it is fixed on the host or in our options. */
  cause?: FailureCause;
}

interface Rule extends FailureCause {
  pattern: RegExp;
}

// "bash: rsync: command not found", "sh: 1: rsync: not found", "bash: line 1: /opt/rsync: No such file or directory"
const NO_REMOTE_RSYNC = /^\S*sh: (?:line \d+: |\d+: )?\S*rsync\S*: (?:command not found|not found|No such file or directory)/;

// First match wins, so the more specific lines come first: ssh's "Permission denied (publickey)" before a
// filesystem's "Permission denied (13)".
const RULES: readonly Rule[] = [
  {
    kind: 'unknown-host-key',
    pattern: /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No \S+ host key is known for/,
    summary: 'the host\'s ssh key is not known (or has changed)',
    fix: 'check the key\'s fingerprint and add it to known_hosts (ssh-keyscan), or let ssh learn a new host\'s key with --ssh-option StrictHostKeyChecking=accept-new',
  },
  {
    kind: 'auth-refused',
    pattern: /Permission denied \((?:publickey|password|keyboard-interactive|hostbased|gssapi)|Too many authentication failures|no mutual signature algorithm/,
    summary: 'the host refused our ssh login',
    fix: 'put the public key of the --ssh-identity key into the remote user\'s authorized_keys, or give the right key (--ssh-identity) and user (user@host)',
  },
  {
    kind: 'no-remote-rsync',
    pattern: NO_REMOTE_RSYNC,
    summary: 'rsync is not installed on the host (or not on its PATH)',
    fix: 'install rsync on the host, or name it with --rsync-opts "--rsync-path=/path/to/rsync"',
  },
  {
    kind: 'missing-parent',
    pattern: /(?:mkdir|change_dir#3) .* failed: No such file or directory \(2\)/,
    summary: 'the target directory\'s parent does not exist on the host (rsync creates only the last level)',
    fix: 'create the parent directory on the host (mkdir -p), or correct the target path',
  },
  {
    kind: 'read-only',
    pattern: /Read-only file system \(30\)/,
    summary: 'the target filesystem is read-only',
    fix: 'remount it read-write on the host (mount -o remount,rw) once its disk is sound, or choose another target',
  },
  {
    kind: 'full',
    pattern: /No space left on device \(28\)|Disk quota exceeded \(122\)/,
    summary: 'the target filesystem is full (or the user\'s quota is spent)',
    fix: 'free space on the host\'s target filesystem or grow it; what is pending is sent once there is room',
  },
  {
    kind: 'permission-denied',
    // The receiving side only: a source file we may not read is the sender's "[sender] ... (13)".
    pattern: /\[(?:[Rr]eceiver|generator)\] .*(?:Permission denied \(13\)|Operation not permitted \(1\))/,
    summary: 'the remote user may not write the target',
    fix: 'give the remote user write access to the target directory (owner, mode), or sync as a user who has it',
  },
];

// Lines that are not the failure: ssh's notices, rsync's closing summary (its meaning is already in the
// message from the exit status), and what rsync prints about a connection it lost as a consequence.
const NOISE = /^(?:Warning: |rsync error: |rsync: connection unexpectedly closed|rsync: \[\w+\] write error: Broken pipe|\s*$)/;

/** The first error line of `text` (stderr of rsync, or ssh's log) and the lasting cause it names, if any. */
export function diagnose(text: string): Diagnosis {
  const lines = text.split('\n').map((line) => line.trim());
  for (const line of lines) {
    const rule = RULES.find((r) => r.pattern.test(line));
    if (rule !== undefined) return { said: line, cause: { kind: rule.kind, summary: rule.summary, fix: rule.fix } };
  }
  return { said: lines.find((line) => !NOISE.test(line)) ?? lines.find((line) => line !== '') ?? '' };
}

/** Whether one line of stderr says the host has no rsync: one test, cheap enough for every line a run prints. */
export function saysNoRemoteRsync(line: string): boolean {
  return NO_REMOTE_RSYNC.test(line.trim());
}
