// The inosync side of the watch benchmarks, run as its own process so that its time and memory are
// measured the way inotifywait's are: arms a WatchTree on argv[2], prints "ready <ms to arm>", then
// ingests events (counted, as a consumer would) until stdin closes, and prints "events <n> overflows <n>".
import { WatchTree } from '../src/watch/tree.js';

const root = process.argv[2];
if (root === undefined) throw new Error('usage: bench-watch-child.js ROOT');

const started = performance.now();
const tree = new WatchTree({ roots: [root] });
let events = 0;
let changes = 0;
let overflows = 0;
tree.on('event', () => { events++; });
tree.on('change', () => { changes++; });
tree.on('warning', () => { overflows++; });
tree.on('error', (error) => { process.stderr.write(`${error.message}\n`); process.exit(1); });
await tree.start();
process.stdout.write(`ready ${(performance.now() - started).toFixed(1)}\n`);

process.stdin.resume();
process.stdin.on('end', () => {
  process.stdout.write(`events ${events} changes ${changes} warnings ${overflows}\n`);
  tree.close();
});
