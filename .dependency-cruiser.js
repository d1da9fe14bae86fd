// @ts-check
/**
 * The layers of src/, top first (docs/architecture.md draws them). A module may import its own
 * folder and any layer below its own, never one above and never a sibling folder of its own
 * layer. test/architecture.test.ts runs these rules over src/ with dependency-cruiser, so an
 * upward import fails the test suite (and CI); `npx depcruise src` prints the same report.
 */
export const LAYERS = [
  ['cli'],
  ['doctor', 'simulate'],
  ['server'],
  ['openapi'],
  ['admin', 'spaces'],
  ['oauth'],
  ['branding'],
  ['http', 'views', 'verify'],
  ['tokens', 'observability'],
  ['store'],
  ['config'],
  ['errors'],
];

/** `src/x/…` for a folder, `src/x.ts` for a layer that is one file (errors). */
const place = (/** @type {string} */ name) => `^src/${name}(/|\\.ts$)`;
const any = (/** @type {string[]} */ names) => `^src/(${names.join('|')})(/|\\.ts$)`;

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const layerRules = LAYERS.flatMap((layer, rank) =>
  layer.flatMap((name) => {
    const barred = [...LAYERS.slice(0, rank).flat(), ...layer.filter((other) => other !== name)];
    if (barred.length === 0) return [];
    return [
      {
        name: `layer-${name}`,
        comment: `src/${name} may import only its own folder and the layers below it`,
        severity: /** @type {const} */ ('error'),
        from: { path: place(name) },
        to: { path: any(barred) },
      },
    ];
  }),
);

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
export const forbidden = [
  ...layerRules,
  {
    name: 'no-unlayered',
    comment: 'every module of src/ sits in a layer of LAYERS',
    severity: 'error',
    from: { path: '^src/', pathNot: any(LAYERS.flat()) },
    to: {},
  },
  {
    name: 'no-circular',
    comment: 'modules that import each other, however indirectly, cannot be read one at a time',
    severity: 'error',
    from: { path: '^src/' },
    to: { circular: true },
  },
];

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden,
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
