// What an rsync daemon says when it refuses a session, and what to do about it. rsync exits 5 ("error
// starting the client-server protocol", a connection failure worth retrying) or 1 for these, but each is a
// setting on one side or the other: retrying fails the same way until someone changes it, so they are
// lasting failures with their own message. The lines are matched whole: rsync escapes the control
// characters of file names in its messages (\#012), so no name can forge one.
const REFUSALS: ReadonlyArray<{ line: RegExp; meaning: (where: string, match: RegExpExecArray) => string }> = [
  {
    line: /^@ERROR: auth failed on module (\S+)$/,
    meaning: (where, [, module]) => `the rsync daemon on ${where} refused the login to module ${module} (auth failed): check the password given by --password-file (or RSYNC_PASSWORD) and the user against the module's "secrets file" and "auth users"`,
  },
  {
    line: /^ERROR: module is read only$/,
    meaning: (where) => `the module on the rsync daemon on ${where} is read only: set "read only = no" for it in the daemon's rsyncd.conf, or mirror to a writable module`,
  },
  {
    line: /^@ERROR: Unknown module '([^']*)'$/,
    meaning: (where, [, module]) => `the rsync daemon on ${where} has no module "${module}": check the module name in the target (\`rsync rsync://HOST/\` lists the daemon's modules)`,
  },
];

/** The meaning of a daemon's refusal on this stderr line, or undefined when the line is not one. */
export function daemonRefusal(line: string, where: string): string | undefined {
  for (const { line: pattern, meaning } of REFUSALS) {
    const match = pattern.exec(line.trimEnd());
    if (match) return meaning(where, match);
  }
  return undefined;
}
