// `inosync import lsyncd|sersync FILE`: another tool's config, printed as inosync YAML on stdout.
import { readFileSync, statSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { InosyncError } from '../errors.js';
import { withExamples } from './examples.js';

const TOOLS = ['lsyncd', 'sersync'] as const;
type Tool = (typeof TOOLS)[number];

interface ImportArgs {
  tool: Tool;
  file: string;
}

/** A config is a few kilobytes; past this the file is not one (and is not read into memory whole). */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** The file's text: UTF-8, or byte for byte (latin1) where it is not, as sersync's ISO-8859-1 files may be. */
function readConfigText(file: string, tool: Tool): string {
  const fix = `Give the ${tool} config file itself (${tool === 'lsyncd' ? 'the Lua file lsyncd is started with' : 'confxml.xml'}).`;
  let bytes: Buffer;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new InosyncError(`${file} is not a regular file`, fix, { exitCode: 2 });
    if (stat.size > MAX_CONFIG_BYTES) throw new InosyncError(`${file} is ${stat.size} bytes, more than a config holds (at most ${MAX_CONFIG_BYTES})`, fix, { exitCode: 2 });
    bytes = readFileSync(file);
  } catch (error) {
    if (error instanceof InosyncError) throw error;
    throw new InosyncError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, fix, { exitCode: 2, cause: error });
  }
  // The Lua reader wants bytes as latin1 characters (it decodes string values itself).
  if (tool === 'lsyncd') return bytes.toString('latin1');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

export const importCommand: CommandModule<object, ImportArgs> = {
  command: 'import <tool> <file>',
  describe: 'Print an lsyncd (Lua) or sersync (confxml.xml) config as an inosync config, with a comment for what has no equivalent',
  builder: (yargs: Argv) =>
    withExamples(yargs, [
      ['an lsyncd config as an inosync config file', '$0 import lsyncd /etc/lsyncd/lsyncd.conf.lua > inosync.yaml'],
      ['a sersync config', '$0 import sersync /usr/local/sersync/confxml.xml > inosync.yaml'],
    ])
      .positional('tool', { choices: TOOLS, describe: 'the tool whose config FILE is' })
      .positional('file', { type: 'string', describe: 'its config file', normalize: false })
      .epilogue('The YAML goes to stdout; it loads as it is (inosync sync --config FILE). Read its comments before use.\n'
        + 'Exit codes: 0 printed; 2 the file cannot be read, is not such a config, or holds no mirror inosync can make.') as unknown as Argv<ImportArgs>,
  handler: async (args) => {
    const text = readConfigText(args.file, args.tool);
    const { renderConfig } = await import('../import/emit.js');
    const draft = args.tool === 'lsyncd'
      ? (await import('../import/lsyncd.js')).importLsyncd(text, args.file, process.cwd())
      : (await import('../import/sersync.js')).importSersync(text, args.file, process.cwd());
    process.stdout.write(renderConfig(draft, args.file));
  },
};
