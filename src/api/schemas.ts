/**
 * Request and response schemas (TypeBox → JSON Schema): Fastify validates bodies with them and the
 * OpenAPI document is generated from them. Query strings are declared as strings and parsed by
 * query.ts, which gives precise messages for -1/limit/offset rules.
 */
import { Type, type Static } from '@sinclair/typebox';

export const Split = Type.Union([Type.Literal('train'), Type.Literal('eval')]);

export const DatasetRef = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 256 }),
  split: Split,
  file_ids: Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { minItems: 1, maxItems: 1000 }),
});

export const CreateJobV05 = Type.Object(
  {
    // A human-readable name with no documented limit; the generated id is cut to 64 characters anyway.
    name: Type.String({ minLength: 1, maxLength: 4096 }),
    id: Type.Optional(Type.String({ maxLength: 1000 })),
    config: Type.Object(
      {
        model: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
        datasets: Type.Array(DatasetRef, { minItems: 1, maxItems: 100 }),
      },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: true },
);
export type CreateJobV05 = Static<typeof CreateJobV05>;

export const JobStatusEnum = Type.Union(
  ['UNKNOWN', 'REGISTERED', 'STARTING', 'RUNNING', 'FINALIZING', 'COMPLETED', 'STOPPING', 'STOPPED', 'CANCELLED', 'FAILED'].map((s) => Type.Literal(s)),
);

export const JobRecord = Type.Object({
  name: Type.String(),
  id: Type.String(),
  uuid: Type.String({ format: 'uuid' }),
  org_uuid: Type.String({ format: 'uuid' }),
  status: JobStatusEnum,
  config: Type.Record(Type.String(), Type.Unknown()),
  created_at: Type.String({ description: 'ISO 8601 UTC, six fractional digits' }),
  updated_at: Type.String(),
  inference_config_path: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  progress: Type.Union([
    Type.Object({
      step: Type.Number(),
      total_steps: Type.Union([Type.Number(), Type.Null()]),
      epoch: Type.Union([Type.Number(), Type.Null()]),
      phase: Type.Union([Type.String(), Type.Null()]),
      eta_seconds: Type.Union([Type.Number(), Type.Null()]),
    }),
    Type.Null(),
  ]),
});

export const ErrorEnvelopeSchema = Type.Object({
  errors: Type.Array(Type.Object({ code: Type.String(), message: Type.String(), suggestion: Type.String(), error_uid: Type.String() })),
});

export const PredictBody = Type.Object(
  {
    checkpoint_id: Type.Optional(Type.String({ minLength: 1 })),
    examples: Type.Optional(Type.Array(Type.Unknown(), { minItems: 1, maxItems: 10000 })),
    file_ids: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 100 })),
    rows: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1, maxItems: 100000 })),
  },
  { additionalProperties: false },
);
export type PredictBody = Static<typeof PredictBody>;

export const ListQuery = Type.Object({
  limit: Type.Optional(Type.String({ description: 'integer; -1 (default) = all' })),
  offset: Type.Optional(Type.String({ description: 'integer ≥ 0 (default 0)' })),
  statuses: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'repeat the key for several statuses' })),
  after: Type.Optional(Type.String({ description: 'extension: a job id; the page starts after it (keyset cursor: as fast at any depth, where offset walks every skipped job)' })),
});

export const JobIdParams = Type.Object({ job_id: Type.String() });
