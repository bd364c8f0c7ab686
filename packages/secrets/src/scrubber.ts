import type { Scrubber } from './secret-store-contract';
import { scrubDeepWith } from './scrub-deep';

/** Values shorter than this are not scrubbed: they would match ordinary words and numbers. */
const minLength = 6;
const placeholder = '[secret]';

/**
 * A {@link Scrubber}. Each value is removed as written, in its JSON-escaped form (a value inside
 * a logged JSON string) and in its `encodeURIComponent` form (a password inside a URL). All forms
 * are matched by one RegExp, longest first, rebuilt on the first `scrub` after an `add`, so
 * scrubbing costs one pass over the text however many values are known. Never throws.
 */
export function createScrubber(): Scrubber {
  const forms = new Set<string>();
  let pattern: RegExp | undefined;

  const scrub = (text: string): string => {
    if (forms.size === 0 || text.length < minLength) return text;
    pattern ??= new RegExp(
      [...forms]
        .sort((a, b) => b.length - a.length)
        .map(escapeRegExp)
        .join('|'),
      'g',
    );
    return text.replace(pattern, placeholder);
  };

  return {
    add(value) {
      if (typeof value !== 'string' || value.length < minLength) return;
      const before = forms.size;
      forms.add(value);
      forms.add(JSON.stringify(value).slice(1, -1));
      forms.add(encodeURIComponent(value));
      if (forms.size !== before) pattern = undefined;
    },
    scrub,
    scrubDeep: (value) => scrubDeepWith(scrub, value),
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
