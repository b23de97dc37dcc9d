// V8's young generation starts at 1 MiB per semi-space and doubles under load up to 16 MiB, and a process
// keeps what it grew to: 9 to 12 MiB of an idle sync agent's RSS (npm run bench -- footprint), and 15 MiB of
// `watch`'s after arming 100k directories (88 -> 73 MiB; a walk's listings are short-lived garbage). A growth
// factor of 1 keeps it at the start size; the churn row and the arming walk measured no more CPU. Set at run
// time, not on the command line: a V8 flag there would reject the launcher's code cache
// (src/cli/launcher.cts), and not in the run that writes that cache (the cache carries its flags).
import { setFlagsFromString } from 'node:v8';

export function keepYoungGenerationSmall(): void {
  if (process.env.INOSYNC_WRITE_CODE_CACHE !== '1') setFlagsFromString('--semi-space-growth-factor=1');
}
