// What an importer found, and the inosync YAML it becomes: fields with the comments that explain them, and a
// comment for every setting that has no equivalent. The output is checked with the config loader's own
// validation before it is printed, so what `inosync import` prints always loads.
//
//   lsyncd.ts / sersync.ts ──► DraftConfig (one DraftSync per source → target) ──► merge by source ──► YAML
import { Document, isScalar, visit, type Node, type YAMLMap } from 'yaml';
import { validateConfig } from '../config/load.js';
import type { SshConfig } from '../config/schema.js';
import { InosyncError } from '../errors.js';
import type { DeleteMode } from '../sync/delete-mode.js';

/** A field of the output and the comment lines above it. */
export interface Field {
  key: string;
  value: unknown;
  notes: string[];
}

export interface DraftTarget {
  spec: string;
  ssh?: SshConfig;
  delete?: DeleteMode;
  exclude?: string[];
  passwordFile?: string;
  notes: string[];
}

/** One source mirrored to one target, as the other tool's config gave it. */
export interface DraftSync {
  /** Where it came from, for the comment above it: "sync{} at line 12 (default.rsyncssh)". */
  origin: string;
  source: string;
  target: DraftTarget;
  /** Sync-level fields (quietMs, rsyncOptions...), in the order they are shown. */
  fields: Field[];
  /** Settings of this sync with no equivalent, shown after its fields. */
  notes: string[];
}

export interface DraftConfig {
  /** Comment lines at the top: what was imported, and what applies to the whole file. */
  header: string[];
  fields: Field[];
  syncs: DraftSync[];
}

export function field(key: string, value: unknown, ...notes: string[]): Field {
  return { key, value, notes };
}

/** A number brought within a bound of src/safety/bounds.ts, whole (the other tool may allow more). */
export function clamp(value: number, bound: { min: number; max: number }): number {
  return Math.min(bound.max, Math.max(bound.min, Math.round(value)));
}

/** Fields a target object may carry, which become the sync's own when every target of a source agrees. */
const SHARED_TARGET_FIELDS = ['delete', 'exclude', 'ssh'] as const;

/** The YAML text of a draft; throws when it would not load (an importer's bug, never the user's). */
export function renderConfig(draft: DraftConfig, file: string): string {
  const syncs = mergeBySource(draft.syncs);
  const document = new Document({ ...Object.fromEntries(draft.fields.map((f) => [f.key, f.value])), syncs: syncs.map((s) => s.value) });
  document.commentBefore = draft.header.map(comment).join('\n');
  const top = document.contents as YAMLMap;
  noteFields(top, draft.fields);
  syncs.forEach((sync, i) => {
    const node = document.getIn(['syncs', i]) as YAMLMap;
    node.commentBefore = sync.origins.map(comment).join('\n');
    noteFields(node, sync.fields);
    if (sync.notes.length > 0) node.comment = sync.notes.map(comment).join('\n');
    sync.targetNotes.forEach((notes, t) => {
      if (notes.length > 0) (document.getIn(['syncs', i, 'targets', t], true) as Node).commentBefore = notes.map(comment).join('\n');
    });
  });
  // Lists of words on one line (exclude: ["*.tmp", "cache/"]), as the example config writes them.
  visit(document, { Seq: (_, seq) => { if (seq.items.every((item) => isScalar(item) && !item.commentBefore)) seq.flow = true; } });
  const text = document.toString({ lineWidth: 0, flowCollectionPadding: false });
  try {
    validateConfig(document.toJS(), file, 'yaml');
  } catch (error) {
    if (error instanceof InosyncError) throw new Error(`the imported config does not load, a bug of the importer: ${error.message}\n${text}`, { cause: error });
    throw error;
  }
  return text;
}

interface MergedSync {
  value: Record<string, unknown>;
  fields: Field[];
  origins: string[];
  notes: string[];
  targetNotes: string[][];
}

/**
 * inosync has one sync per source with all its targets (a second sync of a source is refused), where lsyncd
 * has one sync{} per target. Targets keep what is theirs (delete, exclude, ssh); a sync-level field is taken
 * from the first, and a later one that differs is named in a comment.
 */
function mergeBySource(drafts: readonly DraftSync[]): MergedSync[] {
  const groups = new Map<string, DraftSync[]>();
  for (const draft of drafts) groups.set(draft.source, [...(groups.get(draft.source) ?? []), draft]);
  return [...groups.values()].map((group) => {
    const first = group[0] as DraftSync;
    const fields = [...first.fields];
    // A comment that only some of the merged syncs gave says which it is about.
    const common = first.notes.filter((n) => group.every((d) => d.notes.includes(n)));
    const notes = [...common, ...group.flatMap((d) => d.notes.filter((n) => !common.includes(n)).map((n) => `${d.origin}: ${n}`))];
    for (const later of group.slice(1)) {
      for (const f of later.fields) {
        const kept = fields.find((k) => k.key === f.key);
        if (kept === undefined || !same(kept.value, f.value)) {
          notes.push(`${later.origin} has ${f.key}: ${JSON.stringify(f.value)}, but inosync has one ${f.key} per source: ${kept === undefined ? 'left out' : `${JSON.stringify(kept.value)} is kept`}.`);
        }
      }
    }
    const targets = group.map((d) => d.target);
    const shared: Field[] = [];
    for (const key of SHARED_TARGET_FIELDS) {
      const values = targets.map((t) => t[key]);
      if (values[0] !== undefined && values.every((v) => same(v, values[0]))) {
        shared.push(field(key, values[0]));
        for (const t of targets) delete t[key];
      }
    }
    const all = [field('source', first.source), field('targets', targets.map(targetValue)), ...shared, ...fields];
    return {
      value: Object.fromEntries(all.map((f) => [f.key, f.value])),
      fields: all,
      origins: group.map((d) => d.origin),
      notes,
      targetNotes: targets.map((t) => t.notes),
    };
  });
}

function targetValue(target: DraftTarget): string | Record<string, unknown> {
  const { spec, notes: _notes, ...rest } = target;
  const extra = Object.entries(rest).filter(([, v]) => v !== undefined);
  return extra.length === 0 ? spec : { target: spec, ...Object.fromEntries(extra) };
}

function noteFields(map: YAMLMap, fields: readonly Field[]): void {
  for (const f of fields) {
    if (f.notes.length === 0) continue;
    const pair = map.items.find((p) => isScalar(p.key) && p.key.value === f.key);
    if (pair && isScalar(pair.key)) pair.key.commentBefore = f.notes.map(comment).join('\n');
  }
}

/** A note as comment lines of at most about 100 columns (the yaml library puts the "#" before each). */
function comment(note: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of note.split(' ')) {
    if (line.length > 0 && line.length + word.length > 92) {
      lines.push(line);
      line = '';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines.join('\n');
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
