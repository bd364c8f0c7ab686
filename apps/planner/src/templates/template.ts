import type { Intent, PlanInput } from '@agentry/schema';

/** A way to turn an intent that matches a pattern into a plan, without a model call. */
export interface Template {
  id: string;
  description: string;
  /** Named captures when the intent matches, else undefined. */
  match(text: string): Record<string, string> | undefined;
  build(captures: Record<string, string>, intent: Intent): Omit<PlanInput, 'source' | 'producedBy'>;
}

/** A template from a regular expression; captures are the pattern's named groups. */
export function regexTemplate(
  id: string,
  description: string,
  pattern: RegExp,
  build: Template['build'],
): Template {
  return {
    id,
    description,
    match(text) {
      const m = pattern.exec(text);
      if (!m) return undefined;
      const captures: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) captures[k] = v;
      return captures;
    },
    build,
  };
}
