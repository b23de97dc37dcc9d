// The burst writer of the benchmarks, a process of its own: writes `count` small files spread over
// the existing directories s0..s{dirs-1} of ROOT, then creates ROOT/END (a directory: watchers that
// follow new directories add a watch for it, which is how the bench sees they are through).
import { mkdirSync, writeFileSync } from 'node:fs';

const [root, countArg, dirsArg] = process.argv.slice(2);
if (root === undefined || countArg === undefined || dirsArg === undefined) throw new Error('usage: bench-writer.js ROOT COUNT DIRS');
const count = Number(countArg);
const dirs = Number(dirsArg);
for (let i = 0; i < count; i++) writeFileSync(`${root}/s${i % dirs}/f${i}`, 'x');
mkdirSync(`${root}/END`);
