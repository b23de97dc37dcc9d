// Columns of the watch model (model.ts): plain typed arrays, made large and grown by copying into one 4 times
// larger. A large array's memory is fresh zero pages (calloc: mmap, or the top of the heap), resident only
// where written: a column with room for 131,072 directories holds in RSS about the entries used. Typed arrays
// over a resizable ArrayBuffer (which grows in place) read and write 3-4 times slower in Node 20's V8, and so
// do views of a WebAssembly memory: arming 20,000 directories took 230-300 ms of user CPU either way, 170 ms
// so. Growing by small steps (by half, from 1,024) left each old copy to the collector, which had not run by
// the time 100,000 directories were armed: 73.5 MiB of RSS instead of 66.

export type Column = Int32Array | Uint8Array;

/** How much larger a column is made when full. */
export const GROWTH = 4;

/**
 * A new column of `entries`, zero past the first `used` of `array`, copied: only they are written, so that a
 * column made anew (used 0) is given no pages yet.
 */
export function grown<A extends Column>(array: A, entries: number, used: number): A {
  const copy = new (array.constructor as new (length: number) => A)(entries);
  copy.set(array.subarray(0, Math.min(used, entries)));
  return copy;
}
