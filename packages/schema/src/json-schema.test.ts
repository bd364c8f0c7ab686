import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishedJsonSchemas } from './json-schema';

describe('published JSON Schemas', () => {
  it('docs/schemas matches the zod contracts (run `pnpm schemas` after changing them)', async () => {
    for (const [file, schema] of Object.entries(publishedJsonSchemas())) {
      const committed = JSON.parse(
        await readFile(join(import.meta.dirname, '../../../docs/schemas', file), 'utf8'),
      );
      expect(committed, file).toEqual(schema);
    }
  });

  it('describes the plan-job payload a producer in another language must send', () => {
    const schema = publishedJsonSchemas()['plan-job.schema.json'] as {
      required: string[];
      additionalProperties: boolean;
      properties: { intent: { required: string[] } };
    };
    expect(schema.required).toEqual(['intent']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.intent.required).toEqual(['text', 'tenantId']);
  });
});
