import { loadavg } from 'node:os';
import { dropBenchSchemas } from './bench-env';
import { benchFullPipeline } from './full-pipeline';
import { benchLatency } from './latency';
import { describeMachine, describeMachineLine } from './machine';
import { benchMemory } from './memory';
import { installRoundTripCounter } from './round-trips';
import { benchScaling } from './scaling';
import { benchShutdown } from './shutdown';
import { markdownTable, printFigures, verdict, type Figure } from './stats';
import { benchWorkerOverhead } from './worker-overhead';
import { docPath, resultsBlock, writeResults } from './write-doc';

/**
 * `pnpm bench [--write-doc]`: run every section in order against the local Redis and Postgres
 * (each with its own key prefix and schema, removed afterwards), print the figures and the
 * markdown table; with --write-doc, also replace the results block of docs/benchmarks.md.
 * Never asserts: a missed target is a MISS line, only a crash exits non-zero.
 */
const sections: Array<[title: string, run: () => Promise<Figure[]>]> = [
  ['1. worker runtime overhead (no-op jobs)', benchWorkerOverhead],
  ['2. full pipeline runs/s and steps/s (3-step plans)', benchFullPipeline],
  ['3. latency at a paced arrival rate', benchLatency],
  ['4. scaling with executor processes', benchScaling],
  ['5. drain: SIGTERM to exit', benchShutdown],
  ['6. executor memory', benchMemory],
];

// Count every SQL statement and Redis command this process sends (sections report per run).
installRoundTripCounter();

const writeDoc = process.argv.includes('--write-doc');
// `--only 2,5` runs just those sections (for iterating on one figure); never with --write-doc.
const onlyArg = process.argv[process.argv.indexOf('--only') + 1];
const only = process.argv.includes('--only') && onlyArg ? new Set(onlyArg.split(',')) : undefined;
if (only && writeDoc) throw new Error('--only and --write-doc do not go together');
const startedAt = Date.now();
const machine = await describeMachine();
console.log(`agentry bench on ${describeMachineLine(machine)}\n`);

const figures: Figure[] = [];
/** The 1-min load average when each section started (other work on the box shows here). */
const loads: Array<[section: string, load: number]> = [];
let crashed = false;
try {
  for (const [title, run] of sections) {
    if (only && !only.has(title.split('.')[0] ?? '')) continue;
    const load = loadavg()[0] ?? Number.NaN;
    loads.push([title.split('.')[0] ?? title, load]);
    console.log(`== ${title} (1-min load average ${load.toFixed(2)})`);
    const t0 = Date.now();
    try {
      const result = await run();
      printFigures(result);
      figures.push(...result);
    } catch (e) {
      crashed = true;
      console.error(`  CRASHED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
    console.log(`  (${((Date.now() - t0) / 1_000).toFixed(1)} s)\n`);
  }
} finally {
  await dropBenchSchemas();
}

const missed = figures.filter((f) => verdict(f) === 'MISS');
console.log(`== summary (${((Date.now() - startedAt) / 1_000).toFixed(0)} s)`);
console.log(
  `${figures.filter((f) => verdict(f) === 'PASS').length} PASS, ${missed.length} MISS${missed.length > 0 ? `: ${missed.map((f) => `${f.section} / ${f.name}`).join('; ')}` : ''}\n`,
);
console.log(markdownTable(figures));

if (crashed) {
  console.error('\nsome sections crashed; docs/benchmarks.md left unchanged');
  process.exit(1);
}
if (writeDoc) {
  await writeResults(resultsBlock(figures, machine, new Date(startedAt), loads));
  console.log(`\nwrote the results block of ${docPath}`);
}
