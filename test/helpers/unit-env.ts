// The environment a systemd unit gives its service: its Environment= lines (quoted "NAME=value" words, or
// bare ones), in order, a later one winning. Enough for scripts/inosync.service; not systemd's whole grammar.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const unitPath = fileURLToPath(new URL('../../../scripts/inosync.service', import.meta.url));

export function unitEnvironment(unit: string = readFileSync(unitPath, 'utf8')): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, words = ''] of unit.matchAll(/^Environment=(.*)$/gm)) {
    for (const [, quoted, bare] of words.matchAll(/"([^"]*)"|(\S+)/g)) {
      const word = quoted ?? bare ?? '';
      const eq = word.indexOf('=');
      if (eq > 0) env[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }
  return env;
}
