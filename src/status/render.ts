// The human form of an agent's status: one block per sync, one line per host (plus its last error).
import { shownPath } from '../safety/deep-paths.js';
import type { AgentStatus, HostStatus, PassProgress } from './types.js';
import { thousands as n } from '../log/thousands.js';

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}


function ago(iso: string | null, now: number): string {
  return iso === null ? 'never' : `${formatDuration(now - Date.parse(iso))} ago`;
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** What a pass did so far: "1,234 checked, 56 files sent (1.2 MiB)", or "1,234 scanned". */
export function describeTotals(p: PassProgress): string {
  if (p.phase === 'scanning') return `${n(p.checked)} scanned`;
  return `${n(p.checked)} checked, ${n(p.sent)} files sent (${formatBytes(p.bytes)})`;
}

/** A pass's total as shown: "~40,101" when it is a guess (not rsync's own list nor the batch's marks), '' when unknown. */
export function shownTotal(p: PassProgress): string {
  if (p.total === null) return '';
  return `${p.totalFrom === 'rsync' || p.totalFrom === 'marks' ? '' : '~'}${n(p.total)}`;
}

/** One line about a running pass: "full sync, sending: 1,234 of ~40,101 checked, ..., about 1m20s left". */
export function describeProgress(p: PassProgress, now: number): string {
  const done = p.phase === 'scanning' ? 'scanned' : 'checked';
  const of = p.total === null ? '' : ` of ${shownTotal(p)}`;
  const sent = p.phase === 'scanning' ? '' : `, ${n(p.sent)} files sent (${formatBytes(p.bytes)})`;
  const left = p.etaMs === null ? 'time left unknown yet' : `about ${formatDuration(p.etaMs)} left`;
  return `${p.pass}, ${p.phase}: ${n(p.checked)}${of} ${done}${sent}, ${formatDuration(now - Date.parse(p.startedAt))} so far, ${left}`;
}

function hostLines(host: HostStatus, now: number): string[] {
  const inFlight = host.inFlight
    ? `${host.inFlight.full ? 'full sync' : `${n(host.inFlight.paths)} paths`} for ${formatDuration(now - Date.parse(host.inFlight.startedAt))}`
    : 'none';
  const fields = [
    host.state.padEnd(8),
    `pending ${n(host.pending)}`,
    `in flight ${inFlight}`,
    `last success ${ago(host.lastSuccess, now)}`,
    `lag ${host.lagMs === null ? '-' : formatDuration(host.lagMs)}`,
    `failures ${host.failures}`,
  ];
  const lines = [`  ${host.target}`, `    ${fields.join('  ')}`];
  if (host.progress) lines.push(`    ${describeProgress(host.progress, now)}`);
  if (host.cause) lines.push(`    cause: ${host.cause.summary} [${host.cause.kind}]`, `    fix: ${host.cause.fix}`);
  if (host.lastError) lines.push(`    last error: ${host.lastError.split('\n')[0]}`);
  return lines;
}

export function renderStatus(status: AgentStatus, now = Date.now()): string {
  const lines = [`inosync ${status.version}, pid ${status.pid}, up ${formatDuration(now - Date.parse(status.startedAt))}`];
  for (const sync of status.syncs) {
    const c = sync.counters;
    lines.push(`${sync.source}  (${n(sync.watches)} watches, ${n(c.events)} events, ${n(c.overflows)} overflows, ${n(c.rescans)} rescans)`);
    if (sync.scan) lines.push(`  ${describeProgress(sync.scan, now)}`);
    const skipped = sync.skipped ?? [];
    if (skipped.length > 0) {
      const shown = skipped.slice(0, 3).map((p) => shownPath(Buffer.from(p, 'latin1'))).join(', ');
      lines.push(`  skipped, too deep or too long to watch or send (not synced): ${n(skipped.length)}: ${shown}${skipped.length > 3 ? ', ...' : ''}`);
    }
    for (const host of sync.hosts) lines.push(...hostLines(host, now));
  }
  if (status.syncs.length === 0) lines.push('no syncs configured');
  return `${lines.join('\n')}\n`;
}
