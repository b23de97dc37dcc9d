// Columns of the watch model (model.ts): typed arrays whose buffer is a resizable ArrayBuffer, which reserves
// address space and is given pages as it grows. Growing copies nothing and leaves no garbage, and a freed
// buffer's pages go back to the system at once: copied arrays left their old copies in malloc's heap (100,000
// directories armed in 72 MiB of RSS instead of 68).

/** ES2024's resizable ArrayBuffer: Node 20 has it, this TypeScript's lib does not yet. */
export interface Resizable extends ArrayBuffer {
  readonly maxByteLength: number;
  resize(byteLength: number): void;
}
const ResizableBuffer = ArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => Resizable;

export type Column = Int32Array | Uint8Array;

export function column<A extends Column>(make: new (buffer: ArrayBuffer) => A, bytesEach: number, entries: number, reserved: number): A {
  return new make(new ResizableBuffer(bytesEach * entries, { maxByteLength: bytesEach * reserved }));
}

/** The column with room for `entries`: the same one grown in place (it tracks its buffer's length), or a copy. */
export function grown<A extends Column>(array: A, entries: number): A {
  const buffer = array.buffer as Resizable;
  const size = entries * array.BYTES_PER_ELEMENT;
  if (size <= buffer.maxByteLength) {
    buffer.resize(size);
    return array;
  }
  const copy = column(array.constructor as new (buffer: ArrayBuffer) => A, array.BYTES_PER_ELEMENT, entries, 8 * buffer.maxByteLength / array.BYTES_PER_ELEMENT);
  copy.set(array);
  return copy;
}
