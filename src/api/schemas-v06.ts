/** Request schemas of /v0.6/fine_tuning/jobs (the Omega create body, docs/spec.md#extensions-and-v06). */
import { Type, type Static } from '@sinclair/typebox';

export const FileEntryV06 = Type.Object(
  {
    file_id: Type.String({ minLength: 1, maxLength: 255 }),
    label: Type.String({ minLength: 1, maxLength: 256, description: 'one class per file' }),
    type: Type.Optional(Type.String({ description: 'e.g. "n_shot" (recorded, not interpreted)' })),
    format: Type.Optional(Type.Literal('csv')),
  },
  { additionalProperties: true },
);

const MethodParams = Type.Object(
  {
    hyperparameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    reader: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: true },
);

export const CreateJobV06 = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    id: Type.Optional(Type.String({ maxLength: 1000 })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
    model: Type.String({ minLength: 1, maxLength: 256 }),
    method: Type.Optional(
      Type.Object(
        {
          type: Type.Optional(Type.Union([Type.Literal('head'), Type.Literal('knn')])),
          head: Type.Optional(MethodParams),
          knn: Type.Optional(MethodParams),
        },
        { additionalProperties: true },
      ),
    ),
    training_files: Type.Array(FileEntryV06, { minItems: 1, maxItems: 1000 }),
    validation_files: Type.Array(FileEntryV06, { minItems: 1, maxItems: 1000 }),
  },
  { additionalProperties: true },
);
export type CreateJobV06 = Static<typeof CreateJobV06>;
