// While the startup scans and full syncs run: on a terminal, a status line (the source scan's count, targets
// done, the ones still running with how far they got and the time left, whether any is retrying) that
// disappears once every target has had its first sync; on a terminal or not (a pipe, the journal), one log
// line when they are all done. The passes log their own lines meanwhile (src/status/progress.ts).
import type { Logger } from '../log/logger.js';
import type { TerminalLine } from '../log/terminal-line.js';
import { formatDuration, shownTotal } from '../status/render.js';
import type { AgentStatus, PassProgress } from '../status/types.js';
import { thousands as n } from '../log/thousands.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const REFRESH_MS = 200;

export interface Progress {
  stop(): void;
}

/** `line` is null off a terminal: then only the closing log line is written; `whenDone` is called after it. */
export function showStartupProgress(snapshot: () => AgentStatus, line: TerminalLine | null, logger: Logger, columns: () => number, whenDone: () => void = () => {}): Progress {
  const started = Date.now();
  let frame = 0;
  const tick = (): void => {
    const { syncs } = snapshot();
    const hosts = syncs.flatMap((s) => s.hosts);
    const done = hosts.filter((h) => h.lastSuccess !== null && h.fullSyncPending !== true);
    if (done.length === hosts.length) {
      stop();
      logger.info({ targets: hosts.length, ms: Date.now() - started }, 'startup full sync done on every target');
      whenDone();
      return;
    }
    if (line === null) return;
    const waiting = hosts.filter((h) => !done.includes(h)).map((h) => {
      if (h.state === 'retrying' || h.state === 'down') return `${h.target} ${h.state}${h.lastError ? ` (${h.lastError.split('\n')[0]})` : ''}`;
      if (h.progress) return `${h.target} ${short(h.progress)}`;
      return h.inFlight ? `${h.target} ${formatDuration(Date.now() - Date.parse(h.inFlight.startedAt))}` : `${h.target} queued`;
    });
    const scans = syncs.flatMap((s) => (s.scan ? [`scanning ${s.source} ${short(s.scan)}`] : []));
    frame = (frame + 1) % FRAMES.length;
    const text = `${FRAMES[frame]} startup sync ${done.length}/${hosts.length} targets, ${formatDuration(Date.now() - started)}: ${[...scans, ...waiting].join(', ')}`;
    line.set(text.length > columns() - 1 ? `${text.slice(0, columns() - 2)}…` : text);
  };
  const timer = setInterval(tick, REFRESH_MS);
  timer.unref();
  tick();
  function stop(): void {
    clearInterval(timer);
    line?.clear();
  }
  return { stop };
}

/** "1,234/~40,101 checked, 56 sent, 1m20s left": a pass in a few words. */
function short(p: PassProgress): string {
  const of = p.total === null ? '' : `/${shownTotal(p)}`;
  const sent = p.phase === 'scanning' ? 'scanned' : `checked, ${n(p.sent)} sent`;
  return `${n(p.checked)}${of} ${sent}${p.etaMs === null ? '' : `, ${formatDuration(p.etaMs)} left`}`;
}
