// Is an ssh host's port answering? A plain TCP connect to the host and port ssh would use, closed as soon
// as it is made: no login, no ssh handshake.
//
// Why a bare connect: while a host is down it costs nothing but a SYN (answered by a reset, or not at all),
// so it can be made often and the host's return is seen within a fraction of a second. A login (ssh true,
// or the ssh master itself) would cost the host a key exchange and an authentication per try, and write an
// auth log line each time. The connect reaches sshd only once the host is back, and then only once per
// outage (probing stops at the first answer): sshd logs that one as "Connection closed by ADDR port N"
// (after "kex_exchange_identification: Connection closed by remote host"), which fail2ban's sshd filter
// does not count in its default mode (only "ddos"/"aggressive" do, one count per outage, far below a ban).
//
// Where to connect is what ssh itself would use: `ssh -G` (argv, no shell) prints the effective hostname
// and port after ssh_config (HostName, Port) and our own -p/-o options. A host reached through a
// ProxyCommand or ProxyJump cannot be probed this way: that is reported, and the caller falls back to
// plain retries.
import { execFile } from 'node:child_process';
import { connect } from 'node:net';

export interface SshEndpoint {
  host: string;
  port: number;
}

const RESOLVE_TIMEOUT_MS = 5000;

/**
 * The host and port `ssh OPTIONS -- HOST` would connect to, or undefined when ssh goes through a proxy
 * (or cannot say).
 */
export function sshEndpoint(sshOptions: readonly string[], host: string): Promise<SshEndpoint | undefined> {
  return new Promise((resolve) => {
    execFile('ssh', ['-G', ...sshOptions, '--', host], { timeout: RESOLVE_TIMEOUT_MS, shell: false, maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) {
        resolve(undefined);
        return;
      }
      const config = new Map<string, string>();
      for (const line of stdout.split('\n')) {
        const space = line.indexOf(' ');
        if (space > 0 && !config.has(line.slice(0, space))) config.set(line.slice(0, space).toLowerCase(), line.slice(space + 1).trim());
      }
      const port = Number(config.get('port'));
      const hostname = config.get('hostname');
      const proxied = ['proxycommand', 'proxyjump'].some((key) => { const v = config.get(key); return v !== undefined && v !== 'none'; });
      resolve(proxied || hostname === undefined || !Number.isInteger(port) || port < 1 || port > 65535 ? undefined : { host: hostname, port });
    });
  });
}

/** True when a TCP connection to the endpoint is accepted within `timeoutMs`; it is closed at once. */
export async function tcpAnswers(endpoint: SshEndpoint, timeoutMs: number): Promise<boolean> {
  return (await tcpReply(endpoint, timeoutMs)) === 'answers';
}

/**
 * What a TCP connect to the endpoint gets within `timeoutMs`: accepted (closed at once), refused or
 * otherwise failed (a reset, no route), or nothing at all (a host that is gone, or whose packets are dropped).
 */
export function tcpReply({ host, port }: SshEndpoint, timeoutMs: number): Promise<'answers' | 'fails' | 'silent'> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (reply: 'answers' | 'fails' | 'silent'): void => {
      socket.destroy();
      resolve(reply);
    };
    socket.setTimeout(timeoutMs, () => done('silent'));
    socket.once('connect', () => done('answers'));
    socket.once('error', () => done('fails'));
  });
}
