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
  worker: ['domain', 'lib', 'service', 'trainers'],
  api: ['domain'],
  http: ['api', 'service', 'domain', 'lib'],
  client: ['api'],
  app: ['lib', 'domain', 'config', 'store', 'blobs', 'service', 'trainers', 'worker', 'api', 'http', 'client'],
  cli: ['client', 'api', 'app'],
};

module.exports = { MAY_IMPORT };
