// Counting what an rsync run did from its per-item output.
//
// rsync prints one line per changed item with `--out-format=FORMAT`. Ours carries only the itemize code and
// the byte count, no file name, behind a marker: names may hold newlines, and the user's own rsync options
// (-v, --stats) may add lines of their own, which the marker tells apart.

// Printable on purpose: rsync escapes control characters in its output.
const MARKER = '#inosync# ';

/** The --out-format argument that produces lines `ItemCounter` understands. */
export const OUT_FORMAT_ARG = `--out-format=${MARKER}%i %b`;

export interface ItemCounts {
  /** Items created or changed on the target (files, dirs, links, devices), deletions not included. */
  changed: number;
  /** Items deleted on the target. */
  deleted: number;
  /** Regular files whose data was sent (new, or content changed). */
  sent: number;
  /** Bytes rsync reported transferring for those items. */
  bytes: number;
}

export function emptyCounts(): ItemCounts {
  return { changed: 0, deleted: 0, sent: 0, bytes: 0 };
}

export function addCounts(into: ItemCounts, from: ItemCounts): void {
  into.changed += from.changed;
  into.deleted += from.deleted;
  into.sent += from.sent;
  into.bytes += from.bytes;
}

/** Feeds one stdout line; returns false for lines that are not ours. */
export function countLine(counts: ItemCounts, line: Buffer): boolean {
  const text = line.toString('latin1');
  if (!text.startsWith(MARKER)) return false;
  const [code = '', bytes = '0'] = text.slice(MARKER.length).split(' ').filter((w) => w.length > 0);
  if (code.startsWith('*')) {
    if (code === '*deleting') counts.deleted++;
    return true;
  }
  counts.changed++;
  // YXcstpoguax: Y '<' sent / '>' received means the data travelled; X 'f' is a regular file.
  if ((code[0] === '<' || code[0] === '>') && code[1] === 'f') counts.sent++;
  counts.bytes += Number(bytes) || 0;
  return true;
}
