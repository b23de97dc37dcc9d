// How many inotify instances and watches a user already holds, from /proc/*/fd and /proc/*/fdinfo.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface InotifyHolder {
  pid: number;
  command: string;
  instances: number;
  watches: number;
  /** In this process's user namespace: counted against its own limits (/proc/sys/user/max_inotify_*). */
  sameNamespace: boolean;
}

export interface InotifyUsage {
  uid: number;
  instances: number;
  watches: number;
  /** Processes holding at least one instance, most watches first. */
  holders: InotifyHolder[];
  /** What the holders in this process's user namespace hold: what that namespace's limits count. */
  namespace: { instances: number; watches: number };
  /**
   * An instance inherited across fork shows in every process that holds it, so the totals are an
   * upper bound; processes of other users whose fds cannot be read are not counted.
   */
  unreadableProcesses: number;
}

async function effectiveUid(procDir: string): Promise<number | null> {
  try {
    const status = await readFile(join(procDir, 'status'), 'utf8');
    // "Uid:\treal\teffective\tsaved\tfs": the kernel charges inotify to the effective uid.
    const line = status.split('\n').find((l) => l.startsWith('Uid:'));
    const effective = line?.split(/\s+/)[2];
    return effective === undefined ? null : Number(effective);
  } catch {
    return null; // the process exited meanwhile
  }
}

async function inspectProcess(procDir: string): Promise<{ instances: number; watches: number } | 'unreadable'> {
  let fds: string[];
  try {
    fds = await readdir(join(procDir, 'fd'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'unreadable' : { instances: 0, watches: 0 };
  }
  let instances = 0;
  let watches = 0;
  for (const fd of fds) {
    let link: string;
    try {
      link = await readlink(join(procDir, 'fd', fd));
    } catch {
      continue; // closed meanwhile
    }
    if (link !== 'anon_inode:inotify') continue;
    instances += 1;
    try {
      const info = await readFile(join(procDir, 'fdinfo', fd), 'utf8');
      for (const line of info.split('\n')) if (line.startsWith('inotify wd:')) watches += 1;
    } catch {
      // closed meanwhile: its instance is counted, its watches are gone
    }
  }
  return { instances, watches };
}

async function userNamespace(procDir: string): Promise<string | null> {
  try {
    return await readlink(join(procDir, 'ns', 'user'));
  } catch {
    return null;
  }
}

async function commandOf(procDir: string): Promise<string> {
  try {
    return (await readFile(join(procDir, 'comm'), 'utf8')).trim();
  } catch {
    return '?';
  }
}

/** Counts what the processes of `uid` hold now. */
export async function readInotifyUsage(uid = process.geteuid?.() ?? 0, procRoot = '/proc'): Promise<InotifyUsage> {
  const pids = (await readdir(procRoot)).filter((name) => /^\d+$/.test(name));
  const usage: InotifyUsage = { uid, instances: 0, watches: 0, holders: [], namespace: { instances: 0, watches: 0 }, unreadableProcesses: 0 };
  const ownNamespace = await userNamespace(join(procRoot, 'self'));
  await Promise.all(pids.map(async (pid) => {
    const procDir = join(procRoot, pid);
    if ((await effectiveUid(procDir)) !== uid) return;
    const seen = await inspectProcess(procDir);
    if (seen === 'unreadable') {
      usage.unreadableProcesses += 1;
      return;
    }
    if (seen.instances === 0) return;
    usage.instances += seen.instances;
    usage.watches += seen.watches;
    const sameNamespace = (await userNamespace(procDir)) === ownNamespace;
    if (sameNamespace) {
      usage.namespace.instances += seen.instances;
      usage.namespace.watches += seen.watches;
    }
    usage.holders.push({ pid: Number(pid), command: await commandOf(procDir), ...seen, sameNamespace });
  }));
  usage.holders.sort((a, b) => b.watches - a.watches || a.pid - b.pid);
  return usage;
}
