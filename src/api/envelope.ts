/**
 * The error envelope (docs/errors.md): `{"errors":[{code, message, suggestion, error_uid}]}`, one
 * entry per problem; its HTTP status comes from http-status.ts (re-exported here). Also maps
 * schema-validation failures (Ajv errors) to catalogue codes: a missing field is `missing_parameter`,
 * any other `invalid_parameter`.
 */
import { randomUUID } from 'node:crypto';
import { ERROR_CATALOGUE, FtError, type ErrorDetail } from '../domain/errors.js';

export { statusOf, withHttpStatus } from './http-status.js';

export interface WireError {
  code: string;
  message: string;
  suggestion: string;
  error_uid: string;
}

export interface ErrorEnvelope {
  errors: WireError[];
}

export function envelope(details: ErrorDetail[]): ErrorEnvelope {
  return {
    errors: details.map((d) => ({
      code: d.code,
      message: d.message,
      suggestion: d.suggestion ?? ERROR_CATALOGUE[d.code].suggestion,
      error_uid: `err-${randomUUID()}`,
    })),
  };
}

interface AjvError {
  instancePath?: string;
  keyword: string;
  params?: Record<string, unknown>;
  message?: string;
}

/** Ajv errors → catalogue details, with the JSON path of the field in each message. */
export function fromValidation(errors: AjvError[], where: string): FtError {
  const details: ErrorDetail[] = errors.map((e) => {
    const path = (e.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    if (e.keyword === 'required') {
      const field = [path, String(e.params?.missingProperty ?? '')].filter(Boolean).join('.');
      return { code: 'missing_parameter', message: `${where} is missing required field '${field}'` };
    }
    const field = path || where;
    if (e.keyword === 'additionalProperties') {
      return { code: 'invalid_parameter', message: `${where} has unknown field '${[path, String(e.params?.additionalProperty)].filter(Boolean).join('.')}'` };
    }
    if (e.keyword === 'enum' && e.params?.allowedValues) {
      return { code: 'invalid_parameter', message: `'${field}' must be one of ${(e.params.allowedValues as unknown[]).join(', ')}` };
    }
    return { code: 'invalid_parameter', message: `'${field}' ${e.message ?? 'is invalid'}` };
  });
  return FtError.many(dedupe(details));
}

function dedupe(details: ErrorDetail[]): ErrorDetail[] {
  const seen = new Set<string>();
  return details.filter((d) => (seen.has(d.message) ? false : (seen.add(d.message), true)));
}
