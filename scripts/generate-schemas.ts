// Writes the published JSON Schemas (docs/schemas/) from the zod contracts in @agentry/schema.
// `pnpm schemas` regenerates them; a test fails when the committed files are stale.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publishedJsonSchemas } from '@agentry/schema';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'schemas');
await mkdir(dir, { recursive: true });
for (const [file, schema] of Object.entries(publishedJsonSchemas())) {
  await writeFile(join(dir, file), `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote docs/schemas/${file}`);
}
