// `inosync status`: asks the running agent over its unix socket and prints per sync and per host.
import type { Argv, CommandModule } from 'yargs';
import { InosyncError } from '../errors.js';
import { withBoundedOptions } from './bounded-option.js';
import { queryStatus, NO_AGENT_EXIT_CODE } from '../status/client.js';
import { renderStatus } from '../status/render.js';
import { defaultSocketPath } from '../status/socket-path.js';
import { withExamples } from './examples.js';

interface StatusArgs {
  socket?: string;
  config?: string;
  json: boolean;
  timeout: number;
}

/** --socket, else the socket the config file names, else the default (as the agent chooses it). */
async function socketOf(args: StatusArgs): Promise<string> {
  if (args.socket !== undefined) return args.socket;
  const config = args.config === undefined ? undefined : (await import('../config/load.js')).loadConfig(args.config);
  return config?.socket ?? defaultSocketPath();
}

export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status',
  describe: 'Show what the running agent is doing, per sync and per host',
  builder: (yargs: Argv) =>
    withBoundedOptions(withExamples(yargs, [
      ['per host: state, pending paths, batch in flight, last success, lag', '$0 status'],
      ['ask the agent started with that config file, on the socket it names', '$0 status --config /etc/inosync/inosync.yaml'],
      ['hosts that are busy or in trouble', '$0 status --json | jq \'.syncs[].hosts[] | select(.state != "idle")\''],
    ]), [{ bound: 'status-timeout', flag: 'timeout', describe: 'give up after this long', default: 5000 }])
      .option('socket', { type: 'string', describe: `the agent's status socket (as given to \`inosync sync --socket\`; default ${defaultSocketPath()})` })
      .option('config', { alias: 'c', type: 'string', describe: 'the agent\'s config FILE: ask on the socket it names (--socket wins)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the agent\'s answer as one JSON object' })
      .check((argv) => {
        // An empty path reached net.connect as a TCP port ("Port should be >= 0"), with no fix.
        if (argv.socket === '') throw new InosyncError('--socket is empty', `Give the agent's status socket path, or leave --socket out for the default (${defaultSocketPath()}).`, { exitCode: 2 });
        return true;
      })
      .epilogue(`Exit codes: 0 the agent answered; ${NO_AGENT_EXIT_CODE} no agent is running on the socket; 1 other errors.`) as unknown as Argv<StatusArgs>,
  handler: async (args) => {
    const status = await queryStatus(await socketOf(args), args.timeout);
    process.stdout.write(args.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
  },
};
