import { writeFile } from 'node:fs/promises';
import { formatReport } from './print-report';
import { runSoak } from './run-soak';
import { parseSoakOptions, soakUsage } from './soak-options';

/**
 * `pnpm soak [--duration 10m] [--rate 20] [--warmup 2m] [--sample 15s] [--json <file>]`: a full
 * fleet under a steady open-loop load for the duration, sampled throughout, then judged (zero lost
 * runs, flat RSS, bounded Redis, the expected rows; see docs/soak.md). Exit 1 on any FAIL.
 */
if (process.argv.includes('--help')) {
  console.log(soakUsage);
  process.exit(0);
}
let options;
try {
  options = parseSoakOptions(process.argv.slice(2));
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(2);
}

// First SIGINT/SIGTERM: stop the arrivals, skip the checks, clean up (processes, keys, schema).
// Second: exit at once (the prefix and schema may be left behind).
const interrupt = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (interrupt.signal.aborted) process.exit(130);
    console.error(`soak: ${signal}: stopping the arrivals, then cleaning up (again to exit now)`);
    interrupt.abort();
  });

const result = await runSoak(options, interrupt.signal);
console.log(`\n${formatReport(result)}`);
if (options.jsonFile !== undefined) {
  await writeFile(options.jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${options.jsonFile}`);
}
process.exit(result.passed && result.cleanup.length === 0 ? 0 : 1);
