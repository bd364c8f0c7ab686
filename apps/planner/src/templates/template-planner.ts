import type { Intent, PlanInput } from '@agentry/schema';
import { acknowledgeTemplate } from './builtin-templates';
import type { Template } from './template';

export interface TemplatePlan {
  plan: PlanInput;
  templateId: string;
}

/**
 * The offline planner: the first template whose pattern matches the intent builds the plan.
 * It always answers — the last resort is {@link acknowledgeTemplate} — so it is also the
 * planner every fallback chain ends in. Pure: no I/O.
 */
export function createTemplatePlanner(templates: readonly Template[]) {
  const all = [...templates, acknowledgeTemplate];
  return {
    templates: all,
    plan(intent: Intent): TemplatePlan {
      for (const template of all) {
        const captures = template.match(intent.text);
        if (captures === undefined) continue;
        const body = template.build(captures, intent);
        return {
          plan: { ...body, source: 'template', producedBy: `template:${template.id}` },
          templateId: template.id,
        };
      }
      throw new Error('unreachable: the acknowledge template matches everything');
    },
  };
}
export type TemplatePlanner = ReturnType<typeof createTemplatePlanner>;
