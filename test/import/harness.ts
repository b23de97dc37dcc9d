// Runs `inosync import TOOL FILE` as a user would, and loads what it printed with the agent's own loader.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import type { InosyncConfig } from '../../src/config/schema.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { tempDir, type CleanupContext } from '../helpers/tmp.js';

/** test/import/fixtures/NAME, from the compiled test under dist/test/import. */
export const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/import/fixtures/${name}`, import.meta.url));

/** Debian's lsyncd package puts its example configs here (scripts/setup.sh installs it). */
export const lsyncdExample = (name: string): string => `/usr/share/doc/lsyncd/examples/${name}`;

export interface Imported {
  yaml: string;
  config: InosyncConfig;
}

/** Imports FILE (run in `cwd`, a fresh directory by default), checks exit 0, and loads the YAML with loadConfig. */
export async function importAndLoad(t: CleanupContext, tool: 'lsyncd' | 'sersync', file: string, cwd = tempDir(t)): Promise<Imported> {
  const result = await runCli(['import', tool, file], { cwd });
  assert.equal(result.code, 0, `inosync import ${tool} ${file} failed:\n${result.stderr}`);
  const out = join(tempDir(t), 'inosync.yaml');
  writeFileSync(out, result.stdout);
  return { yaml: result.stdout, config: loadConfig(out) };
}

/** Runs an import expected to fail, with the exit code and message checked by the caller. */
export function importFails(tool: 'lsyncd' | 'sersync', file: string): Promise<CliResult> {
  return runCli(['import', tool, file]);
}

/** Asserts that the YAML has a comment holding `text`, which the output may have wrapped over several lines. */
export function assertComment(yaml: string, text: string): void {
  const words = text.split(' ').map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  assert.match(yaml, new RegExp(`# ${words.join('\\s+(?:# )?')}`), `a comment "${text}"`);
}
