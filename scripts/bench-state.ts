// `npm run bench -- state [--files N]`: what a restart with state records spends before it can send the
// difference: one scan of the source into an entry file and one diff of two such files (src/state/), in CPU
// time per entry, beside `find -printf` of the same stats (the same syscalls, from C, printing instead of
// recording). A tree of N files (default 200,000) in N/10 directories, as the scale part builds it. Medians
// of --runs (default 3) alternating runs; CPU time, not wall time, since other work shares the machine.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { diffRecord } from '../src/state/diff.js';
import { EntryReader, EntryWriter } from '../src/state/files.js';
import { scanTree } from '../src/state/scan.js';
import { makeTree, scaleOptions } from './bench-scale.js';
import type { Row } from './bench-table.js';

const cpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** Scans `src` into a new entry file at `path`; returns its entry count. */
async function scanInto(src: string, path: string): Promise<number> {
  const writer = new EntryWriter(path, { kind: 'scan' });
  let entries = 0;
  await scanTree({ root: src }, (bytes, end, count) => {
    writer.addEncoded(bytes, 0, end, count);
    entries += count;
  });
  writer.close();
  return entries;
}

async function diffFiles(was: string, now: string): Promise<number> {
  const [record, scan] = [await EntryReader.open(was), await EntryReader.open(now)];
  try {
    return (await diffRecord(record.cursor(), scan.cursor(), Number.MAX_SAFE_INTEGER))?.size ?? Number.NaN;
  } finally {
    await Promise.all([record.close(), scan.close()]);
  }
}

/** CPU seconds of `find -printf` over `src`: its user and system time, as this process's children's. */
function findSeconds(src: string): number {
  const before = childrenCpu();
  spawnSync('find', [src, '-printf', '%s %T@ %C@ %i %m %U %G\n'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return childrenCpu() - before;
}

/** cutime + cstime of /proc/self/stat, in seconds (USER_HZ is 100 on Linux). */
function childrenCpu(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

export async function stateBenchmarks(work: string, argv: readonly string[], log: (line: string) => void): Promise<Row[]> {
  const files = argv.includes('--files') ? scaleOptions(argv).files : 200_000;
  const runs = argv.includes('--runs') ? scaleOptions(argv).runs : 3;
  const src = join(work, 'src');
  makeTree(src, files);
  const [was, now] = [join(work, 'was'), join(work, 'now')];
  let entries = await scanInto(src, was);
  const scans: number[] = [];
  const diffs: number[] = [];
  const finds: number[] = [];
  for (let i = 0; i < runs; i++) {
    rmSync(now, { force: true });
    let started = cpuSeconds();
    entries = await scanInto(src, now);
    scans.push(cpuSeconds() - started);
    started = cpuSeconds();
    const marks = await diffFiles(was, now);
    diffs.push(cpuSeconds() - started);
    if (marks !== 0) throw new Error(`bench: an unchanged tree differed in ${marks} places`);
    finds.push(findSeconds(src));
  }
  const perEntry = (seconds: number): number => (seconds / entries) * 1e6;
  log(`state: ${entries} entries; scan CPU s ${scans.map((s) => s.toFixed(2)).join(', ')}; diff ${diffs.map((s) => s.toFixed(2)).join(', ')}; find ${finds.map((s) => s.toFixed(2)).join(', ')}`);
  const find = perEntry(median(finds));
  return [
    { metric: `state scan, CPU per entry (${entries} entries)`, unit: 'us', inosync: perEntry(median(scans)), anchor: find, anchorName: 'find -printf, same stats' },
    { metric: 'state scan + diff, CPU per entry', unit: 'us', inosync: perEntry(median(scans) + median(diffs)), anchor: find, anchorName: 'find -printf, same stats' },
  ];
}
