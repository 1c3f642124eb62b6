/**
 * The layer rules of docs/architecture.md ("may import" column), checked by dependency-cruiser in
 * `npm test` (test/layers.test.ts): a folder under src/ imports only itself and the folders listed for
 * it, web/ only client and api, and no module is part of an import cycle. Type-only imports count
 * (tsPreCompilationDeps): a type is a dependency of the design as much as a value is.
 * The table itself is scripts/layers.cjs; test/layers.test.ts checks docs/architecture.md against it.
 */
const { MAY_IMPORT, SERVICE_WINGS, SERVICE_SWEEP } = require('./scripts/layers.cjs');

const layerRules = Object.entries(MAY_IMPORT).map(([layer, allowed]) => ({
  name: `layer-${layer}`,
  comment: `src/${layer}/ may import only ${allowed.length ? allowed.map((a) => `src/${a}/`).join(', ') : 'node built-ins'} (docs/architecture.md)`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: '^(src|web)/', pathNot: `^src/(${[layer, ...allowed].join('|')})/` },
}));

const wingRules = Object.entries(SERVICE_WINGS).map(([wing, allowed]) => ({
  name: `service-wing-${wing}`,
  comment: `src/service/${wing}/ may import only the shared src/service/*.ts${allowed.map((a) => `, src/service/${a}/`).join('')} (docs/architecture.md)`,
  severity: 'error',
  from: { path: `^src/service/${wing}/` },
  to: { path: '^src/service/[^/]+/', pathNot: `^src/service/(${[wing, ...allowed].join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    ...wingRules,
    {
      name: 'service-shared',
      comment: `the shared modules at the top of src/service/ import no wing (the gc sweep, ${SERVICE_SWEEP}, reads every wing's keys)`,
      severity: 'error',
      from: { path: '^src/service/[^/]+\\.ts$', pathNot: `^src/service/${SERVICE_SWEEP.replace('.', '\\.')}$` },
      to: { path: '^src/service/[^/]+/' },
    },
    {
      name: 'lib-node-only',
      comment: 'src/lib/ holds generic helpers on node built-ins alone (docs/architecture.md)',
      severity: 'error',
      from: { path: '^src/lib/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'web-through-client',
      comment: 'the dashboard talks to the server only through src/client/ (and reads src/api/ types)',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^src/', pathNot: '^src/(client|api)/' },
    },
    {
      name: 'no-cycles',
      comment: 'no module may reach itself through its imports',
      severity: 'error',
      from: { path: '^(src|web)/' },
      to: { circular: true },
    },
    {
      name: 'not-to-tests',
      comment: 'production code never imports a test or test helper',
      severity: 'error',
      from: { path: '^(src|web)/', pathNot: '\\.test\\.ts$' },
      to: { path: '(^test/|\\.test\\.ts$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)assembly/|^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
