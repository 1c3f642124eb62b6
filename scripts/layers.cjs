/**
 * Which folder under src/ may import which (a folder always imports itself): the one machine-readable
 * copy of the "may import" column of docs/architecture.md. Read by .dependency-cruiser.cjs and by
 * test/layers.test.ts, which also checks the docs table says the same.
 */
const MAY_IMPORT = {
  lib: [],
  domain: ['lib'],
  config: ['domain', 'lib'],
  store: ['domain', 'lib'],
  blobs: ['domain', 'lib'],
  service: ['domain', 'lib', 'store', 'blobs'],
  trainers: ['domain', 'lib'],
  worker: ['domain', 'lib', 'api', 'trainers'],
  api: ['domain'],
  http: ['api', 'service', 'domain', 'lib'],
  client: ['api'],
  app: ['lib', 'domain', 'config', 'store', 'blobs', 'service', 'trainers', 'worker', 'api', 'http', 'client'],
  cli: ['client', 'api', 'app'],
};

/**
 * Inside src/service/: which wing (sub-folder) may import which other wings, the "may import" column
 * of docs/architecture.md's service table. Every wing may import the shared modules at the top of
 * src/service/ (bus, events, deps, trainer hooks, dataset paths, metrics, auth); those import no
 * wing, except SERVICE_SWEEP, the `ftnode gc` sweep over every wing's keys.
 */
const SERVICE_WINGS = {
  files: [],
  jobs: ['files'],
  batch: ['files', 'jobs'],
  attempts: ['jobs', 'batch'],
  workers: ['attempts'],
};
const SERVICE_SWEEP = 'blob-gc.ts';

module.exports = { MAY_IMPORT, SERVICE_WINGS, SERVICE_SWEEP };
