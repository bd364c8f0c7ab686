import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeLlmServer, type FakeLlmServer } from '@agentry/llm/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestFleet } from '../support/fleet';
import type { FleetProcess } from '../support/fleet-process';
import { repoRoot } from '../support/fleet-process';

interface Documented {
  name: string;
  type: string;
  labels: string[];
  processes: string[];
}

/** The catalog table of docs/metrics.md. */
async function catalog(): Promise<Documented[]> {
  const doc = await readFile(join(repoRoot, 'docs/metrics.md'), 'utf8');
  const rows = [...doc.matchAll(/^\|\s*`(agentry_[a-z_]+)`\s*\|\s*(\w+)\s*\|([^|]+)\|([^|]+)\|/gm)];
  return rows.map(([, name = '', type = '', labels = '', processes = '']) => ({
    name,
    type,
    labels: [...labels.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] ?? '').sort(),
    processes: processes.split(',').map((p) => p.trim()),
  }));
}

/** Label names of every sample of `name` (histograms: their `_count` series). */
function sampleLabels(text: string, name: string, type: string): string[][] {
  const series = type === 'histogram' ? `${name}_count` : name;
  return [...text.matchAll(new RegExp(`^${series}(?:\\{([^}]*)\\})? `, 'gm'))].map((m) =>
    [...(m[1] ?? '').matchAll(/([a-z_]+)="/g)].map((l) => l[1] ?? '').sort(),
  );
}

/**
 * The metrics catalog against the real processes after a real run: each process exposes each
 * metric the catalog gives it, with the documented type and exactly the documented labels (plus
 * the constant `component`).
 */
describe('metrics catalog (separate processes)', () => {
  let fleet: TestFleet;
  let fake: FakeLlmServer;
  const metricsOf: Record<string, () => Promise<string>> = {};

  beforeAll(async () => {
    fake = await startFakeLlmServer({ apiKey: 'metrics-key' });
    fleet = await TestFleet.create({
      AGENTRY_LLM_PROVIDER: 'openai',
      AGENTRY_LLM_MODEL: 'fake-model',
      AGENTRY_LLM_BASE_URL: `${fake.url}/v1`,
      AGENTRY_LLM_API_KEY_REF: 'env://FAKE_LLM_KEY',
      FAKE_LLM_KEY: 'metrics-key',
    });
    const { planner, executor } = await fleet.startAll();
    const scrape = (p: FleetProcess) => async () => {
      const line = await p.waitForLog((l) => l.msg === 'health server listening');
      return (await fetch(`http://127.0.0.1:${String(line.port)}/metrics`)).text();
    };
    metricsOf.planner = scrape(planner);
    metricsOf.executor = scrape(executor);
    metricsOf.api = async () => (await fetch(`${fleet.apiUrl}/metrics`)).text();
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
    await fake?.close();
  }, 60_000);

  it('exposes every catalogued metric with its documented type and labels', async () => {
    const { body } = await fleet.http<{ runId: string }>('POST', '/v1/runs', {
      text: 'greet the team',
      tenantId: 'acme',
    });
    await fleet.waitForRun(body.runId, (s) => s === 'succeeded');
    const documented = await catalog();
    expect(documented.length).toBeGreaterThan(20);
    for (const [process, scrape] of Object.entries(metricsOf)) {
      // The API collects queue depth every 500 ms here: wait for a first round.
      let text = await scrape();
      for (let i = 0; i < 40 && process === 'api' && !text.includes('agentry_queue_jobs{'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        text = await scrape();
      }
      for (const metric of documented.filter((m) => m.processes.includes(process))) {
        const where = `${metric.name} on the ${process}`;
        expect(text, where).toContain(`# TYPE ${metric.name} ${metric.type}`);
        for (const labels of sampleLabels(text, metric.name, metric.type)) {
          expect(labels, where).toEqual([...metric.labels, 'component'].sort());
        }
      }
      // Nothing undocumented: every agentry metric the process exposes is in the catalog.
      const exposed = [...text.matchAll(/^# TYPE (agentry_[a-z_]+) /gm)].map((m) => m[1]);
      const mine = documented.filter((m) => m.processes.includes(process)).map((m) => m.name);
      expect(
        exposed.filter((name) => !mine.includes(name ?? '')),
        process,
      ).toEqual([]);
    }
    // After a real run the step and job series exist on the executor.
    const executor = await metricsOf.executor?.();
    expect(executor).toMatch(/agentry_executor_steps_total\{[^}]*outcome="succeeded"[^}]*\} 1/);
  });
});
