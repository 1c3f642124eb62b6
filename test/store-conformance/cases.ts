/**
 * The one case list of the store conformance suite, by aggregate; both backends run all of it.
 * A new Store method needs a case here (test/store-conformance.test.ts fails until one calls it).
 */
import { attemptCases } from './attempts.js';
import { eventCases } from './events.js';
import { fileCases } from './files.js';
import type { Case } from './harness.js';
import { jobCases } from './jobs.js';
import { orgKeyCases } from './orgs-keys.js';
import { uploadCases } from './uploads.js';
import { workerCases } from './workers.js';

export const STORE_CASES: Case[] = [...orgKeyCases, ...fileCases, ...jobCases, ...attemptCases, ...eventCases, ...uploadCases, ...workerCases];
