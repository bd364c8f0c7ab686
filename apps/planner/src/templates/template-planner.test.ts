import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Intent, validatePlan } from '@agentry/schema';
import { builtinTemplates } from './builtin-templates';
import { loadTemplateFile } from './template-file';
import { createTemplatePlanner } from './template-planner';

const tools = new Set(['echo', 'wait', 'http.request', 'webhook.notify']);
const intent = (text: string) => Intent.parse({ text, tenantId: 'acme' });
const planner = createTemplatePlanner(builtinTemplates);

describe('template planner', () => {
  it("plans the brief's example intent as a valid DAG over known tools", () => {
    const { plan, templateId } = planner.plan(
      intent('deploy build 812 to staging and post the result to #ops'),
    );
    expect(templateId).toBe('deploy');
    const { order } = validatePlan(plan, tools);
    expect(order).toEqual(['prepare', 'rollout', 'verify', 'notify']);
    expect(plan.steps[3]?.input).toMatchObject({ data: { channel: '#ops' } });
  });

  it('rates a production rollout as high risk', () => {
    const { plan } = planner.plan(intent('deploy 9 to production'));
    expect(plan.steps.find((s) => s.id === 'rollout')?.risk).toBe('high');
  });

  it('builds an N-step chain capped at the plan limit', () => {
    expect(planner.plan(intent('echo 3 steps')).plan.steps.map((s) => s.dependsOn ?? [])).toEqual([
      [],
      ['s1'],
      ['s2'],
    ]);
    expect(planner.plan(intent('echo 999 steps')).plan.steps).toHaveLength(50);
  });

  it('falls back to acknowledging anything it does not recognise', () => {
    const { plan, templateId } = planner.plan(intent('something nobody planned for'));
    expect(templateId).toBe('acknowledge');
    expect(() => validatePlan(plan, tools)).not.toThrow();
  });

  it('every built-in produces a valid plan for its own example', () => {
    for (const text of [
      'check https://example.com/health',
      'notify https://hooks.example.com/x',
      'wait 2 s',
      'failure drill',
      'summarise the incident',
    ]) {
      expect(() => validatePlan(planner.plan(intent(text)).plan, tools), text).not.toThrow();
    }
  });
});

describe('templates file', () => {
  async function file(content: string) {
    const dir = await mkdtemp(join(tmpdir(), 'agentry-templates-'));
    const path = join(dir, 'templates.json');
    await writeFile(path, content);
    return path;
  }

  it('loads templates with placeholders, tried before the built-ins', async () => {
    const path = await file(
      JSON.stringify({
        templates: [
          {
            id: 'restart',
            pattern: 'restart (?<service>[a-z-]+)',
            summary: 'Restart {{service}}',
            steps: [
              {
                id: 'restart',
                tool: 'echo',
                input: { message: 'restarting {{service}} for {{tenantId}}' },
              },
            ],
          },
        ],
      }),
    );
    const custom = createTemplatePlanner([...(await loadTemplateFile(path)), ...builtinTemplates]);
    const { plan, templateId } = custom.plan(intent('please restart billing-api now'));
    expect(templateId).toBe('restart');
    expect(plan.summary).toBe('Restart billing-api');
    expect(plan.steps[0]?.input).toEqual({ message: 'restarting billing-api for acme' });
  });

  it('refuses a broken file with a message naming the file and the problem', async () => {
    await expect(loadTemplateFile(await file('{ nope'))).rejects.toThrow(
      /templates file .*templates\.json/,
    );
    await expect(
      loadTemplateFile(await file(JSON.stringify({ templates: [{ id: 'x' }] }))),
    ).rejects.toThrow(/is invalid: templates\.0\.pattern/);
    await expect(
      loadTemplateFile(
        await file(
          JSON.stringify({
            templates: [
              { id: 'x', pattern: '(', summary: 's', steps: [{ id: 'a', tool: 'echo' }] },
            ],
          }),
        ),
      ),
    ).rejects.toThrow(/invalid pattern/);
  });
});
