// Raising inotify limits: at run time through /proc/sys, across reboots through a sysctl.d file.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InosyncError } from '../errors.js';
import { writeFileAtomic } from '../safety/atomic-write.js';
import { sysctlPath } from './read.js';

export interface LimitSetting {
  sysctl: string;
  value: number;
}

export interface AppliedChange {
  sysctl: string;
  from: number;
  to: number;
}

export const DEFAULT_SYSCTL_DIR = '/etc/sysctl.d';
export const SYSCTL_FILE_NAME = '60-inosync.conf';

function notPermitted(what: string, settings: readonly LimitSetting[], cause?: unknown): InosyncError {
  const byHand = settings.map((s) => `${s.sysctl}=${s.value}`).join(' ');
  return new InosyncError(
    `${what} needs root${cause ? ` (${(cause as NodeJS.ErrnoException).code ?? String(cause)})` : ''}`,
    `Run it as root (sudo inosync limits ...), or by hand: sudo sysctl -w ${byHand}. In a container the host must raise them.`,
    { exitCode: 1, cause },
  );
}

/** Writes each setting that is higher than the running value; never lowers a limit. */
export async function applyLimits(settings: readonly LimitSetting[], procRoot = '/proc'): Promise<AppliedChange[]> {
  const changes: AppliedChange[] = [];
  for (const setting of settings) {
    const path = sysctlPath(setting.sysctl, procRoot);
    const current = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    if (setting.value <= current) continue;
    if (process.geteuid?.() !== 0) throw notPermitted('raising inotify limits', settings);
    try {
      await writeFile(path, `${setting.value}\n`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw notPermitted(`writing ${path}`, settings, error);
      throw error;
    }
    changes.push({ sysctl: setting.sysctl, from: current, to: setting.value });
  }
  return changes;
}

/** The sysctl.d file's text: one `name = value` line each, with where it came from. */
export function sysctlFileText(settings: readonly LimitSetting[], note: string): string {
  return [
    '# inotify limits for inosync, written by `inosync limits --persist`.',
    `# ${note}`,
    '# Loaded at boot by systemd-sysctl; apply now with: sysctl --system',
    ...settings.map((s) => `${s.sysctl} = ${s.value}`),
    '',
  ].join('\n');
}

/** Writes (atomically replacing, never through a symlink: see safety/atomic-write.ts) DIR/60-inosync.conf; returns its path. */
export async function persistLimits(settings: readonly LimitSetting[], note: string, dir = DEFAULT_SYSCTL_DIR): Promise<string> {
  const path = join(dir, SYSCTL_FILE_NAME);
  try {
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(path, sysctlFileText(settings, note), 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw notPermitted(`writing ${path}`, settings, error);
    throw error;
  }
  return path;
}
