import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CostReport } from '@agentry/engine';
import { Plan } from '@agentry/schema';
import { runCli, startCliFleet, type CliFleet } from './support/cli-fleet';

/** `agentry cost report` against the real API, planner and executor (two connected workers). */
describe('agentry cost report', () => {
  let fleet: CliFleet;

  /** An LLM-planned run whose plan was repaired once, and one charged `http.request` step. */
  async function seedRun(tenantId: string): Promise<void> {
    const { repos } = fleet.api.services;
    const id = randomUUID();
    const intent = { text: 'tell me a joke', tenantId, dryRun: false, metadata: {} };
    await repos.runs.create({ id, tenantId, correlationId: id, dryRun: false, intent });
    const plan = Plan.parse({
      source: 'llm',
      producedBy: 'llm:primary:gpt-big',
      summary: 'fetch',
      steps: [{ id: 'fetch', tool: 'http.request', input: {}, risk: 'medium' }],
    });
    const call = {
      runId: id,
      purpose: 'plan' as const,
      provider: 'primary',
      model: 'gpt-big',
      inputTokens: 1_000,
      outputTokens: 200,
      priced: true,
      latencyMs: 5,
    };
    const llmCalls = [
      { ...call, costUsd: 0.02, outcome: 'invalid' as const },
      { ...call, costUsd: 0.03, outcome: 'ok' as const },
    ];
    await repos.runs.savePlan(id, { plan, order: ['fetch'], hash: id, llmCalls }, 'running');
    const claim = await repos.steps.startAttempt(id, 'fetch', {
      attempt: 1,
      jobId: 'j',
      worker: 'w',
    });
    if (claim.kind !== 'run') throw new Error('fetch did not start');
    const charge = { runId: id, stepId: 'fetch', attemptId: claim.attemptId, costUsd: 0.004 };
    await repos.costs.chargeTool({ ...charge, tool: 'http.request' });
    await repos.steps.complete(id, 'fetch', claim.attemptId, {});
  }

  beforeAll(async () => {
    fleet = await startCliFleet();
    await seedRun('cli-cost');
  });
  afterAll(async () => {
    await fleet?.api.close();
  });

  it('prints each section, the projection, the fleet estimate and numbered suggestions', async () => {
    const { out, exitCode } = await runCli(['cost', 'report', '--days', '7'], fleet.env);
    expect(exitCode).toBe(0);
    expect(out).toMatch(/^cost report \S+ → \S+ \(7 days, all tenants\)$/m);
    expect(out).toContain(
      'spend $0.0540: model calls $0.0500 (2 calls), tools $0.0040 (1 charge), 1 run',
    );
    expect(out).toMatch(/^TENANT\s+RUNS\s+MODELS\s+TOOLS\s+TOTAL$/m);
    expect(out).toMatch(/^cli-cost\s+1\s+\$0\.0500\s+\$0\.0040\s+\$0\.0540$/m);
    expect(out).toMatch(/^primary\s+gpt-big\s+2\s+0\s+2000\s+400\s+\$0\.0500$/m);
    expect(out).toMatch(/^http\.request\s+1\s+\$0\.0040\s+0\s+\$0\.0000\s+\$0\.0040$/m);
    expect(out).toMatch(/^\d{4}-\d\d-\d\d\s+\$0\.0500\s+\$0\.0040\s+\$0\.0540$/m);
    expect(out).toMatch(/^projection \d{4}-\d\d: month to date \$0\.0540 \+ \$\d+\.\d{4}\/day/m);
    // The planner's and the executor's workers, at the default $0.0416 an hour.
    expect(out).toMatch(/^fleet per month: compute 2 workers × 730 h × \$0\.0416 = \$60\.74; /m);
    expect(out).toMatch(/database \d+\.\d{3} GiB × \$0\.1150\/GB = \$\d+\.\d{4}; spend \$/);
    expect(out).toMatch(
      /^1\. \[retry-waste\] 1 plan from gpt-big \(primary\) failed validation and was repaired: the invalid answers cost \$0\.0200/m,
    );
    expect(out).toMatch(/^note: the price table is empty/m);
  });

  it('--json prints the API answer; --tenant scopes it', async () => {
    const json = await runCli(['cost', 'report', '--json'], fleet.env);
    const report = JSON.parse(json.out) as CostReport;
    expect(report.totals).toMatchObject({ llmUsd: 0.05, toolUsd: 0.004, totalUsd: 0.054 });
    expect(report.window.days).toBe(30);
    expect(report.fleet.workers).toBe(2);

    const other = await runCli(['cost', 'report', '--tenant', 'nobody'], fleet.env);
    expect(other.out).toMatch(/\(30 days, tenant nobody\)/);
    expect(other.out).toMatch(/^by tenant\n\(none\)$/m);
    expect(other.out).toMatch(/^suggestions\n\(none\)$/m);
  });

  it('a bad window is refused by the API with its message', async () => {
    await expect(
      runCli(['cost', 'report', '--from', '2025-03-01', '--days', '3'], fleet.env),
    ).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/not both/) });
  });
});
