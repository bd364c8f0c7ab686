import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AppError, Step, toError } from '@agentry/schema';
import { regexTemplate, type Template } from './template';

/**
 * A template from the templates file (`AGENTRY_PLANNER_TEMPLATES_FILE`, JSON). Strings in step
 * inputs may use `{{name}}` for a named group of `pattern`, and `{{text}}`/`{{tenantId}}`.
 */
export const TemplateSpec = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/),
  description: z.string().max(500).default(''),
  pattern: z.string().min(1).max(1_000),
  flags: z
    .string()
    .regex(/^[imsu]*$/)
    .default('i'),
  summary: z.string().max(2_000),
  steps: z.array(Step).min(1),
});
export const TemplateFile = z.strictObject({ templates: z.array(TemplateSpec) });
export type TemplateSpec = z.output<typeof TemplateSpec>;

const placeholder = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

function fill(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string')
    return value.replace(placeholder, (_, name: string) => vars[name] ?? '');
  if (Array.isArray(value)) return value.map((v) => fill(v, vars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)]));
  }
  return value;
}

/** Compile validated specs into templates; a bad regular expression is a clear VALIDATION error. */
export function compileTemplates(specs: readonly TemplateSpec[]): Template[] {
  return specs.map((spec) => {
    let pattern: RegExp;
    try {
      pattern = new RegExp(spec.pattern, spec.flags);
    } catch (e) {
      throw new AppError(
        'VALIDATION',
        `template "${spec.id}": invalid pattern: ${toError(e).message}`,
      );
    }
    return regexTemplate(spec.id, spec.description, pattern, (captures, intent) => {
      const vars = { ...captures, text: intent.text, tenantId: intent.tenantId };
      return {
        summary: fill(spec.summary, vars) as string,
        steps: spec.steps.map((s) => ({
          ...s,
          input: fill(s.input, vars) as Record<string, unknown>,
        })),
      };
    });
  });
}

/** Read and validate a templates file. Throws `AppError('VALIDATION')` naming the file and problems. */
export async function loadTemplateFile(path: string): Promise<Template[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new AppError('VALIDATION', `templates file ${path}: ${toError(e).message}`, { cause: e });
  }
  const parsed = TemplateFile.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AppError('VALIDATION', `templates file ${path} is invalid: ${problems}`, {
      details: { issues: parsed.error.issues },
    });
  }
  return compileTemplates(parsed.data.templates);
}
