// OSV records for tests, written in the real format (the shape of OpenSSF malicious-packages MAL
// records, schema 1.7), and the real OSV JSON schema (../shared/fixtures/osv/schema.json) that every one
// of them is checked against before a test uses it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { requireSharedFixtures } from '../harness/paths';

let realSchema: ReturnType<Ajv2020['compile']> | undefined;

/** The OSV project's own schema, as OSV's tools validate with it (JSON Schema 2020-12). */
export function realOsvSchema(): ReturnType<Ajv2020['compile']> {
  if (!realSchema) {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    realSchema = ajv.compile(
      JSON.parse(readFileSync(join(requireSharedFixtures(), 'osv/schema.json'), 'utf8')),
    );
  }
  return realSchema;
}

export function malicious(): string {
  return join(requireSharedFixtures(), 'osv/malicious-npm');
}

export interface MalRecord {
  id: string;
  name: string;
  versions?: string[];
  ranges?: Array<Array<Record<string, string>>>;
  withdrawn?: string;
  integrity?: string[];
  purl?: string;
  modified?: string;
}

/** A MAL record as the OpenSSF malicious-packages repository writes them; validated with the real schema. */
export function malRecord(spec: MalRecord): Record<string, unknown> {
  const affected: Record<string, unknown> = {
    package: { ecosystem: 'npm', name: spec.name, ...(spec.purl ? { purl: spec.purl } : {}) },
    ...(spec.ranges ? { ranges: spec.ranges.map((events) => ({ type: 'SEMVER', events })) } : {}),
    ...(spec.versions ? { versions: spec.versions } : {}),
    database_specific: {
      cwes: [
        {
          cweId: 'CWE-506',
          description: 'The product contains code that appears to be malicious in nature.',
          name: 'Embedded Malicious Code',
        },
      ],
      ...(spec.integrity
        ? {
            indicators: {
              package_integrity: spec.integrity.map((sri) => ({
                filename: `${spec.name.split('/').pop()}.tgz`,
                hashes: { sha512_sri: sri },
              })),
            },
          }
        : {}),
    },
  };
  const record: Record<string, unknown> = {
    modified: spec.modified ?? '2026-03-02T10:11:12Z',
    published: '2026-03-01T09:00:00Z',
    schema_version: '1.7.4',
    id: spec.id,
    summary: `Malicious code in ${spec.name} (npm)`,
    details:
      '\n---\n_-= Per source details. Do not edit below this line.=-_\n\n## Source: ghsa-malware (0000)\nAny computer that has this package installed or running should be considered fully compromised.\n',
    affected: [affected],
    references: [
      { type: 'ADVISORY', url: `https://github.com/advisories/GHSA-${spec.id.slice(-4)}-test-test` },
    ],
    database_specific: {
      'malicious-packages-origins': [
        {
          source: 'ghsa-malware',
          sha256: '0'.repeat(64),
          import_time: '2026-03-01T09:30:00.123456Z',
          modified_time: '2026-03-01T09:00:00Z',
        },
      ],
    },
    ...(spec.withdrawn ? { withdrawn: spec.withdrawn } : {}),
  };
  const validate = realOsvSchema();
  assert.ok(
    validate(record),
    `test record ${spec.id} fails the OSV schema: ${JSON.stringify(validate.errors)}`,
  );
  return record;
}

export const recordText = (record: Record<string, unknown>): string => `${JSON.stringify(record, null, 2)}\n`;
