import { z } from 'zod';
import { limits } from './limits';

/** Tenant ids are short, URL-safe slugs; they appear in job ids and metric labels. */
export const TenantId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    'tenant id: 1-63 chars of a-z, 0-9, "_" or "-", starting with a letter or digit',
  );

/** Idempotency keys and conversation ids: printable, no whitespace, bounded. */
const Key = z.string().regex(/^[\x21-\x7e]{1,128}$/, '1-128 printable ASCII characters, no spaces');

/**
 * Text Postgres can store and every consumer can read: no NUL and no unpaired UTF-16 surrogate
 * (JSON can carry both as escapes; `jsonb` refuses them). A pattern rather than a refinement, so
 * the published JSON Schema carries it too.
 */
const storable = (schema: z.ZodString) =>
  schema.regex(
    // NUL is the point of this pattern (jsonb refuses it).
    // eslint-disable-next-line no-control-regex
    /^(?:[^\u0000\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/,
    'contains a NUL character or an unpaired surrogate: not valid Unicode text',
  );

const MetadataValue = z.union([storable(z.string().max(1_024)), z.number().finite(), z.boolean()]);

/** What a producer asks for. Carries ids and secret references, never secret values. */
export const Intent = z.strictObject({
  text: storable(z.string())
    .trim()
    .min(1, 'intent text is empty')
    .max(
      limits.intentTextMaxChars,
      `intent text is longer than ${limits.intentTextMaxChars} characters`,
    ),
  tenantId: TenantId,
  conversationId: Key.optional(),
  dryRun: z.boolean().default(false),
  /** Most this run may spend, in US dollars. */
  budgetUsd: z.number().positive().max(1_000_000).optional(),
  idempotencyKey: Key.optional(),
  metadata: z
    .record(storable(z.string().min(1).max(64)), MetadataValue)
    .refine((m) => Object.keys(m).length <= limits.metadataMaxEntries, {
      message: `at most ${limits.metadataMaxEntries} metadata entries`,
    })
    .default({}),
});
export type Intent = z.output<typeof Intent>;
export type IntentInput = z.input<typeof Intent>;
