// The Grafana dashboard and the Prometheus alert rules under contrib/ are built on what the agent really
// exports: a metric renamed or dropped in src/metrics must fail here, not on an operator's screen.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { get } from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../helpers/pack.js';
import { startLoggedCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/tmp.js';

const rulesFile = join(packageRoot, 'contrib', 'prometheus', 'inosync-alerts.yaml');
const dashboardFile = join(packageRoot, 'contrib', 'grafana', 'inosync-dashboard.json');

interface Rule { alert?: string; expr?: string; for?: string; labels?: { severity?: string }; annotations?: { summary?: string } }
interface Panel { title?: string; targets?: Array<{ expr?: string }> }

const rules = (parse(readFileSync(rulesFile, 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as { panels: Panel[]; templating: { list: Array<{ definition?: string }> } };
const dashboardExprs = [
  ...dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr ?? '')),
  ...dashboard.templating.list.flatMap((variable) => (variable.definition ? [variable.definition] : [])),
];

/** The inosync metric names a PromQL expression reads. */
const metricNames = (expr: string): string[] => expr.match(/\binosync_[a-z_]+\b/g) ?? [];

function scrape(url: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    get(url, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      response.on('end', () => resolve(text));
    }).on('error', reject);
  });
}

/** The names in a scrape's `# TYPE` lines. */
async function scrapeNames(url: string): Promise<Set<string>> {
  return new Set([...(await scrape(url)).matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1] as string));
}

/** Starts an agent on a fresh temp tree with metrics on a free port; resolves with its /metrics URL. */
async function startAgentWithMetrics(t: TestContext, prefix?: string[]): Promise<string> {
  const base = tempDir(t);
  mkdirSync(join(base, 'src'));
  mkdirSync(join(base, 'dst'));
  const args = ['sync', '--source', join(base, 'src'), '--target', join(base, 'dst'), '--socket', join(base, 'sock'), '--metrics', '127.0.0.1:0'];
  const agent = startLoggedCli(t, args, prefix === undefined ? {} : { prefix });
  const running = await agent.waitForLog((l) => l.msg.startsWith('agent running'), 'the agent to run');
  // Idle before the test ends: the temp tree is removed before the agent is stopped (hooks run in order), and
  // a startup full sync still retrying would make its target again meanwhile.
  await agent.waitForLog((l) => l.msg.startsWith('startup full sync done'), 'the startup full sync');
  return `http://${String(running.metrics)}/metrics`;
}

test('each alert rule has a name, an expression on inosync metrics, a severity and a summary', () => {
  assert.ok(rules.length > 0);
  for (const rule of rules) {
    assert.match(rule.alert ?? '', /^Inosync[A-Za-z]+$/);
    assert.notDeepEqual(metricNames(rule.expr ?? ''), [], `${rule.alert}: ${rule.expr}`);
    assert.match(rule.labels?.severity ?? '', /^(critical|warning|info)$/, String(rule.alert));
    assert.ok(rule.annotations?.summary, String(rule.alert));
    if (rule.for !== undefined) assert.match(rule.for, /^\d+[smh]$/, String(rule.alert));
  }
});

test('each dashboard panel queries inosync metrics', () => {
  assert.ok(dashboard.panels.length > 0);
  for (const panel of dashboard.panels) {
    assert.ok((panel.targets ?? []).length > 0, String(panel.title));
    for (const target of panel.targets ?? []) assert.notDeepEqual(metricNames(target.expr ?? ''), [], String(panel.title));
  }
});

test('every metric the rules and the dashboard use is one a running agent exports', async (t) => {
  const exported = await scrapeNames(await startAgentWithMetrics(t));
  const used = new Set([...rules.map((rule) => rule.expr ?? ''), ...dashboardExprs].flatMap(metricNames));
  assert.deepEqual([...used].filter((name) => !exported.has(name)), [], `exported: ${[...exported].join(', ')}`);
});

test('the dashboard plots the watches against the watch limit, and an alert fires above 90 % of it', () => {
  const panel = dashboard.panels.find((p) => (p.targets ?? []).some((target) => /inosync_watch_limit/.test(target.expr ?? '')));
  assert.ok(panel, 'no panel reads inosync_watch_limit');
  const names = new Set((panel.targets ?? []).flatMap((target) => metricNames(target.expr ?? '')));
  assert.deepEqual([...names].sort(), ['inosync_watch_limit', 'inosync_watches'], String(panel.title));
  const alert = rules.find((rule) => /inosync_watch_limit/.test(rule.expr ?? ''));
  assert.match(alert?.expr ?? '', /^sum without \(source\) \(inosync_watches\) > 0\.9 \* inosync_watch_limit$/);
});

test('inosync_watch_limit is the limit that bites first: a user namespace\'s, when lower than the global one', async (t) => {
  // A user namespace of its own, whose watch limit (777, below any kernel's default) only this agent sees.
  const prefix = ['unshare', '--user', '--map-root-user', 'sh', '-c', 'echo 777 > /proc/sys/user/max_inotify_watches && exec "$@"', 'sh'];
  const body = await scrape(await startAgentWithMetrics(t, prefix));
  assert.match(body, /^# TYPE inosync_watch_limit gauge$/m);
  assert.match(body, /^inosync_watch_limit 777$/m);
});

test('promtool accepts the alert rules', (t) => {
  if (spawnSync('sh', ['-c', 'command -v promtool']).status !== 0) return t.skip('promtool (Debian package prometheus) is not installed');
  const result = spawnSync('promtool', ['check', 'rules', rulesFile], { encoding: 'utf8' });
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
});
