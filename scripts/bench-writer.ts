// The burst writer of the benchmarks, a process of its own: writes `count` small files spread over
// the existing directories s0..s{dirs-1} of ROOT, then creates ROOT/END (a directory: watchers that
// follow new directories add a watch for it, which is how the bench sees they are through).
// With FROM and TO it writes only files FROM..TO-1 of them, and END only when TO is COUNT: a storm in parts.
import { mkdirSync, writeFileSync } from 'node:fs';

const [root, countArg, dirsArg, fromArg, toArg] = process.argv.slice(2);
if (root === undefined || countArg === undefined || dirsArg === undefined) throw new Error('usage: bench-writer.js ROOT COUNT DIRS [FROM TO]');
const count = Number(countArg);
const dirs = Number(dirsArg);
const [from, to] = [Number(fromArg ?? 0), Number(toArg ?? count)];
for (let i = from; i < to; i++) writeFileSync(`${root}/s${i % dirs}/f${i}`, 'x');
if (to === count) mkdirSync(`${root}/END`);
