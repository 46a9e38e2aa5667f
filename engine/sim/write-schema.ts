// Writes engine/sim/scenario.schema.json from the one definition in scenario-schema.ts.
// Run after changing the format: node --import tsx engine/sim/write-schema.ts

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scenarioJsonSchema } from './scenario-schema';

export const SCHEMA_FILE = fileURLToPath(new URL('./scenario.schema.json', import.meta.url));

export function schemaFileText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, schemaFileText());
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
