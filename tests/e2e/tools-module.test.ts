import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestFleet } from '../support/fleet';
import { repoRoot } from '../support/fleet-process';

/**
 * An application's own tool through the production bundles: planner, executor and API as
 * separate processes, each given the same `AGENTRY_TOOLS_MODULE` and nothing else.
 */
describe('AGENTRY_TOOLS_MODULE (separate processes)', () => {
  let fleet: TestFleet;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentry-e2e-tools-'));
    const templates = join(dir, 'templates.json');
    await writeFile(
      templates,
      JSON.stringify({
        templates: [
          {
            id: 'note',
            summary: 'note {{text}}',
            pattern: '^note',
            steps: [{ id: 'write', tool: 'acme.note', input: { text: '{{text}}' } }],
          },
        ],
      }),
    );
    fleet = await TestFleet.create({
      AGENTRY_TOOLS_MODULE: resolve(repoRoot, 'apps/executor/test/fixtures/acme-tools.mjs'),
      AGENTRY_PLANNER_TEMPLATES_FILE: templates,
    });
    await fleet.startAll();
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it("plans and runs the module's tool", async () => {
    const submitted = await fleet.http<{ runId: string }>('POST', '/v1/runs', {
      text: 'note the release',
      tenantId: 'acme',
    });
    expect(submitted.status).toBe(202);
    const detail = await fleet.waitForRun(submitted.body.runId, (s) => s === 'succeeded');
    expect(detail.steps.map((s) => [s.stepId, s.state, s.output])).toEqual([
      ['write', 'succeeded', { noted: 'NOTE THE RELEASE' }],
    ]);
  });
});
