// Test run reports in the formats CI systems read: JUnit XML (one testsuite per file and board, one testcase per
// test method) and TAP version 13. Pure: results in, text out.
import { countCases, type CaseResult, type SuiteResult } from './board-test.js';

export interface BoardSuites {
  /** The board the suites ran on (JUnit's hostname). */
  board: string;
  suites: SuiteResult[];
}

/** XML 1.0 has no way to carry most control characters, even escaped: they become U+FFFD. */
function xml(text: string): string {
  return text
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);
const attrs = (a: Record<string, string | number>) => Object.entries(a).map(([k, v]) => ` ${k}="${xml(String(v))}"`).join('');

function testcase(c: CaseResult): string {
  const head = `    <testcase${attrs({ name: c.name, classname: c.classname, time: seconds(c.timeMs) })}`;
  const body: string[] = [];
  if (c.status === 'fail' || c.status === 'error') {
    const tag = c.status === 'fail' ? 'failure' : 'error';
    const type = /^(\w+)/.exec(c.traceback?.trim().split('\n').at(-1) ?? '')?.[1] ?? (tag === 'failure' ? 'AssertionError' : 'Error');
    body.push(`      <${tag}${attrs({ message: c.message ?? '', type })}>${xml(c.traceback ?? c.message ?? '')}</${tag}>`);
  } else if (c.status === 'skip') {
    body.push(`      <skipped${attrs({ message: c.message ?? '' })}/>`);
  }
  if (c.output) body.push(`      <system-out>${xml(c.output)}</system-out>`);
  return body.length ? `${head}>\n${body.join('\n')}\n    </testcase>` : `${head}/>`;
}

export function junitXml(runs: BoardSuites[], timestamp = new Date()): string {
  const blocks: string[] = [];
  for (const run of runs) {
    for (const s of run.suites) {
      const n = countCases(s.cases);
      const suite = {
        name: s.file, tests: n.tests, failures: n.failures, errors: n.errors, skipped: n.skipped, time: seconds(s.timeMs),
        timestamp: timestamp.toISOString().slice(0, 19), hostname: run.board, id: 0, package: s.file.replace(/\.py$/, ''),
      };
      blocks.push([`  <testsuite${attrs(suite)}>`, ...s.cases.map(testcase), '  </testsuite>'].join('\n'));
    }
  }
  return testsuites(blocks);
}

/** The document around testsuite elements: their totals on testsuites, each suite's id its place in it. */
function testsuites(blocks: string[]): string {
  const sum = (attr: string) => blocks.reduce((t, s) => t + Number(new RegExp(`^  <testsuite [^>]*?\\b${attr}="([\\d.]+)"`).exec(s)?.[1] ?? 0), 0);
  const totals = { name: 'boardctl test', tests: sum('tests'), failures: sum('failures'), errors: sum('errors'), skipped: sum('skipped'), time: sum('time').toFixed(3) };
  let id = 0;
  const numbered = blocks.map((s) => s.replace(/^(  <testsuite [^>]*?\bid=")\d+"/, (_, head: string) => `${head}${id++}"`));
  return ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites${attrs(totals)}>`, ...numbered, '</testsuites>', ''].join('\n');
}

/** TAP 13: one line per test, failures with a YAML block holding the traceback. */
export function tapReport(runs: BoardSuites[]): string {
  const cases = runs.flatMap((r) => r.suites.flatMap((s) => s.cases.map((c) => ({ c, where: runs.length > 1 ? `${r.board} ` : '' }))));
  const lines = ['TAP version 13', `1..${cases.length}`];
  cases.forEach(({ c, where }, i) => {
    const title = `${where}${c.classname}.${c.name}`;
    if (c.status === 'skip') lines.push(`ok ${i + 1} - ${title} # SKIP ${c.message ?? ''}`.trimEnd());
    else if (c.status === 'pass') lines.push(`ok ${i + 1} - ${title}`);
    else {
      lines.push(`not ok ${i + 1} - ${title}`, '  ---', `  severity: ${c.status === 'fail' ? 'fail' : 'error'}`, `  message: ${JSON.stringify(c.message ?? '')}`);
      if (c.traceback) lines.push('  traceback: |', ...c.traceback.split('\n').map((l) => `    ${l}`));
      lines.push('  ...');
    }
  });
  return `${lines.join('\n')}\n`;
}

/** Several boards' reports (from junitXml) as one: their testsuite elements under one testsuites with the totals. */
export function mergeJunit(reports: string[]): string {
  return testsuites(reports.flatMap((r) => r.match(/^  <testsuite [^]*?^  <\/testsuite>$/gm) ?? []));
}
