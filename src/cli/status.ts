// `inosync status`: asks the running agent over its unix socket and prints per sync and per host.
import type { Argv, CommandModule } from 'yargs';
import { withBoundedOptions } from './bounded-option.js';
import { queryStatus, NO_AGENT_EXIT_CODE } from '../status/client.js';
import { renderStatus } from '../status/render.js';
import { defaultSocketPath } from '../status/socket-path.js';

interface StatusArgs {
  socket: string;
  json: boolean;
  timeout: number;
}

export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status',
  describe: 'Show what the running agent is doing, per sync and per host',
  builder: (yargs: Argv) =>
    withBoundedOptions(yargs, [{ bound: 'status-timeout', flag: 'timeout', describe: 'give up after this long', default: 5000 }])
      .option('socket', { type: 'string', default: defaultSocketPath(), describe: 'the agent\'s status socket (as given to `inosync sync --socket`)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the agent\'s answer as one JSON object' })
      .example('$0 status', 'state, pending paths, batch in flight, last success, lag, failures, per host')
      .example('$0 status --json | jq \'.syncs[].hosts[] | select(.state != "idle")\'', 'hosts that are busy or in trouble')
      .epilogue(`Exit codes: 0 the agent answered; ${NO_AGENT_EXIT_CODE} no agent is running on the socket; 1 other errors.`) as unknown as Argv<StatusArgs>,
  handler: async (args) => {
    const status = await queryStatus(args.socket, args.timeout);
    process.stdout.write(args.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
  },
};
