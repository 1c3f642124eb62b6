/**
 * fast-check arbitraries of the route fuzzer: one generated value is one request (FuzzCase), made of
 * a route, values for its path parameters (a seeded resource of ours or another organization's, or a
 * hostile literal: 300 characters, 20 digits, `%ZZ`, `%00`, non-UTF-8 percent-encodings), a spelling
 * of the path (`/%76…`, absolute-form, doubled slashes), query parameters (the route's own and unknown
 * ones, duplicated, with huge, negative, fractional and non-numeric values), credentials, a
 * Content-Type, extra headers (Range, Accept: text/event-stream, a lease token, one over 16 KB), a body
 * (the route's valid sample mutated: dropped, added and retyped fields; random JSON; broken JSON;
 * random bytes; a JSON body over the 16 MiB limit; multipart with or without a boundary or its closing
 * delimiter, too many fields, hostile file names, bad base64) and a framing (exact, chunked,
 * Content-Length larger than the body then a half-close, Content-Length with Transfer-Encoding, a
 * malformed Content-Length).
 *
 * Values are plain data (no Buffers, no functions), so a failing case prints and replays from its seed.
 */
import fc from 'fast-check';
import type { FuzzRoute } from './fuzz-routes.js';
import { refsForParam, sampleQuery } from './fuzz-routes.js';

/** A seeded resource (resolved at send time; `encode` spells every character as %XX) or literal wire text. */
export type Piece = { ref: string; encode?: boolean } | { raw: string };
export type AuthMode = 'own' | 'other' | 'worker' | 'none' | 'garbage' | 'malformed';
export type Framing = 'exact' | 'chunked' | 'long-close' | 'cl-te' | 'bad-cl' | 'short-cl';
export type Spelling = 'plain' | 'v-encoded' | 'dot-encoded' | 'absolute' | 'double-slash' | 'trailing-slash' | 'dot-segment';
export type JsonMutation =
  | { op: 'drop'; at: number }
  | { op: 'add'; at: number; key: string; value: unknown }
  | { op: 'set'; at: number; value: unknown }
  | { op: 'wrap' };

export interface MultipartSpec {
  /** How the Content-Type names the boundary: right, absent, a different one, quoted. */
  header: 'ok' | 'missing' | 'other' | 'quoted' | 'empty';
  closing: boolean;
  fieldsBefore: number;
  fileField: string;
  filename: Piece;
  fileType: string;
  content: { kind: 'sample' } | { kind: 'text'; text: string } | { kind: 'hex'; hex: string } | { kind: 'base64'; text: string };
  /** The worker routes' `report` field: the valid one, mutated, or broken text. */
  report: 'valid' | 'none' | { text: string } | { mutations: JsonMutation[] };
  extraFileParts: number;
}

export type BodySpec =
  | { kind: 'none' }
  | { kind: 'sample'; mutations: JsonMutation[] }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string }
  | { kind: 'hex'; hex: string }
  | { kind: 'huge'; over: number }
  | { kind: 'multipart'; mp: MultipartSpec };

export interface FuzzCase {
  route: FuzzRoute;
  params: Record<string, Piece>;
  spelling: Spelling;
  query: Array<[string, Piece]>;
  auth: AuthMode;
  /** 'auto': the type the body kind calls for; null: no Content-Type header. */
  contentType: string | null;
  headers: Array<[string, string]>;
  body: BodySpec;
  framing: Framing;
  /** No `Connection: close`: the server must read the rest of a body it refused before it may close. */
  keepAlive: boolean;
}

const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>): fc.WeightedArbitrary<T> => ({ weight, arbitrary });
const hex = (max: number): fc.Arbitrary<string> => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b).toString('hex'));

/** Literal values for ids and names in a path, already in wire form. */
const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'no-such-id', 'a\u0000b', '\u0000', '99999999999999999999', '9223372036854775808', '-1', '0', '1e3', '%ZZ', '%', '%0', '%00', 'a%00b', '%FF', '%C3%28', '%E2%82',
    '..', '%2e%2e', '..%2F..%2Fpackage.json', 'a%2Fb', '%5C', 'j%C3%B6b', '%F0%9F%98%80', '%20', '+', ';', ',', '.', '~', "'", '%22', '%3Cscript%3E',
  ),
  fc.integer({ min: 1, max: 400 }).map((n) => 'a'.repeat(n)), // the router's 100-character parameter limit and beyond
  fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => encodeURIComponent(s)),
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 6 }).map((s) => s.replace(/[\r\n /?#]/g, '_')), // raw control and high bytes in the target
  fc.uint8Array({ minLength: 1, maxLength: 6 }).map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')), // percent-encoded bytes, often not UTF-8
);

function paramArb(route: FuzzRoute, name: string): fc.Arbitrary<Piece> {
  const refs = refsForParam(route, name);
  const options: Array<fc.WeightedArbitrary<Piece>> = [w(4, hostileSegment.map((raw) => ({ raw })))];
  if (refs.length > 0) options.push(w(8, fc.record({ ref: fc.constantFrom(...refs), encode: fc.boolean() }).map((p) => (p.encode ? p : { ref: p.ref }))));
  else options.push(w(4, fc.constant({ ref: `plain:${name}` })));
  return fc.oneof(...options);
}

/** The page conventions' edges: integers past 32 and 64 bits, signs, exponents, leading zeros. */
const pageEdge: fc.Arbitrary<Piece> = fc.oneof(
  w(3, fc.constantFrom(
    '99999999999999999999', '9223372036854775808', '-9223372036854775809', '2147483648', '2147483647', '18446744073709551616', '1e3', '1e999', '-1',
    '0', '-2', '1.5', '0x10', '+1', '00000000000000000001',
  )),
  w(2, fc.bigInt({ min: 2n ** 31n, max: 10n ** 30n }).map(String)), // past int32, often past int64 (SQLite's and PostgreSQL's bigint)
).map((raw) => ({ raw }));

/** Values for query parameters: the page conventions' edges (half of all values) and everything that is not an integer. */
const queryValue: fc.Arbitrary<Piece> = fc.oneof(
  w(8, pageEdge),
  w(1, fc.integer({ min: 1, max: 9000 }).map((n) => ({ raw: '9'.repeat(n) }))),
  w(4, fc.constantFrom(
    '1', '2', '%201', '', 'abc', '%ZZ', '%00', '%FF', '%C3%28', 'true', 'null', 'RUNNING', 'COMPLETED,RUNNING', 'NOPE', 'asc', 'desc', 'remote:fuzz:', 'remote:x', '1%2C2',
  ).map((raw) => ({ raw }))),
  w(2, fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => ({ raw: encodeURIComponent(s) }))),
  w(2, fc.constantFrom('own.job', 'own.completedJob', 'other.job', 'own.partQuery').map((ref) => ({ ref }))),
);

function queryArb(route: FuzzRoute): fc.Arbitrary<Array<[string, Piece]>> {
  const known = route.query.length > 0 ? route.query : ['limit'];
  const key = fc.oneof(
    w(8, fc.constantFrom(...known)),
    w(2, fc.constantFrom('limit', 'offset', 'statuses', 'after', 'order', 'shard_index', 'max_items_per_shard', 'prefix', 'expires', 'sig', 'limit[]', 'limit[0]', '__proto__', 'constructor')),
    w(1, fc.string({ unit: 'grapheme', maxLength: 8 }).map((s) => encodeURIComponent(s))),
  );
  const pair = fc.tuple(key, queryValue);
  // The query that makes the route's request valid (a signed part URL's expires and sig, the worker
  // session's prefix), as is or with more after it. `@@signed` stands for a whole query string.
  const sample = sampleQuery(route);
  const valid: Array<fc.WeightedArbitrary<Array<[string, Piece]>>> = sample
    ? [w(8, fc.array(pair, { maxLength: 1 }).map((more) => [...sample.map(([k, ref]): [string, Piece] => [k, { ref }]), ...more]))]
    : [];
  // One of the route's own parameters at a page edge and nothing else wrong: the request the list
  // handlers and the store's LIMIT/OFFSET meet (a 20-digit limit reached SQLite and PostgreSQL as a 500).
  const pageKeys = known.filter((k) => ['limit', 'offset', 'shard_index', 'max_items_per_shard'].includes(k));
  const edgeOnly = fc.tuple(fc.constantFrom(...(pageKeys.length > 0 ? pageKeys : known)), pageEdge).map((p): Array<[string, Piece]> => [...(sample ?? []).map(([k, ref]): [string, Piece] => [k, { ref }]), p]);
  return fc.oneof(
    ...valid,
    w(4, edgeOnly),
    w(4, fc.constant<Array<[string, Piece]>>([])),
    w(6, fc.array(pair, { minLength: 1, maxLength: 3 })),
    w(1, pair.map(([k, v]) => [[k, v], [k, { raw: '2' }]] as Array<[string, Piece]>)), // a repeated key
  );
}

/** Leaf values that break a field's type or range. */
export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null, true, false, 0, -1, 1.5, -0.0001, 1e308, -1e308, 2 ** 53 + 2, 2 ** 63, '', ' ', 'x', '-1', '1e3', '@@num:99999999999999999999',
    '@@num:9223372036854775808', '@@num:-9223372036854775809', '@@num:1e999', '@@num:-0', '@@bad-utf8', [], {}, [null], { '': 1 }, JSON.parse('{"__proto__":1}') as unknown,
    'COMPLETED', 'fixture-ok', 'omega', 'train', '../x', 'a/b', '\u0000', '\ud83d', '@@own.file', '@@other.file', '@@own.job', '@@other.job', '@@own.fence',
  ),
  fc.integer({ min: 1, max: 70_000 }).map((n) => 'x'.repeat(n)),
  fc.array(fc.constant('@@own.file'), { maxLength: 200 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), at: fc.nat(50) }),
  fc.record({ op: fc.constant('add' as const), at: fc.nat(50), key: fc.constantFrom('unknown', 'id', 'hyperparameters', 'model', 'fence', '__proto__', ''), value: weirdValue }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(50), value: weirdValue }),
  fc.constant({ op: 'wrap' as const }),
);

const jsonBody: fc.Arbitrary<BodySpec> = fc.oneof(
  w(3, fc.constant<BodySpec>({ kind: 'sample', mutations: [] })),
  w(10, fc.array(jsonMutation, { minLength: 1, maxLength: 3 }).map((mutations) => ({ kind: 'sample' as const, mutations }))),
  w(2, fc.jsonValue({ maxDepth: 4 }).map((value) => ({ kind: 'json' as const, value }))),
  w(2, fc.constantFrom('{', '{"a":', '[1,2', 'nul', '{"a":1}}', '\ufeff{}', '{"a":1,"a":2}', '"\\ud800"', '1'.repeat(400), '{"__proto__":{"x":1}}', '[]', '0', '""', '   ', '{"a":"\u0000"}').map((text) => ({ kind: 'text' as const, text }))),
  w(1, hex(64).map((h) => ({ kind: 'hex' as const, hex: h }))),
  w(1, fc.constant({ kind: 'none' as const })),
);

const fileName: fc.Arbitrary<Piece> = fc.oneof(
  w(6, fc.nat(20).map((n) => ({ raw: `fuzz-up-${n}.jsonl` }))),
  w(1, fc.constantFrom('own.file', 'own.csv0').map((ref) => ({ ref }))), // replaces a seeded file (ensure() brings it back)
  w(4, fc.constantFrom(
    '', '.', '..', '../x.jsonl', 'a/b.jsonl', 'a\\b.jsonl', 'x\u0000y.jsonl', 'x\u0001.jsonl', 'é.jsonl', 'x".jsonl', '%2e%2e', 'x y.csv', 'x.exe',
    `${'a'.repeat(250)}.jsonl`, `${'a'.repeat(300)}.jsonl`, `${'é'.repeat(130)}.csv`, 'x.jsonl\u00ff', 'CON', 'x.ndjson',
  ).map((raw) => ({ raw }))),
);

const base64Text: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('====', '=', 'YQ', 'YQ=', 'YWJj', 'YWJjZA==', 'YW Jj', 'YW\nJj', '@@@@', 'YWJj====', '-_-_', '', 'e30='),
  fc.base64String({ maxLength: 64 }),
  fc.string({ maxLength: 20 }),
);

/** A valid multipart body for the route: one file part `file` (and the worker routes' `report` before it). */
function validMultipart(route: FuzzRoute, n: number): MultipartSpec {
  return {
    header: 'ok', closing: true, fieldsBefore: 0, fileField: 'file', filename: { raw: `fuzz-up-${n}.jsonl` }, fileType: 'text/plain',
    content: { kind: 'sample' }, report: route.url.startsWith('/v1/worker/') ? 'valid' : 'none', extraFileParts: 0,
  };
}

/** A multipart body with one or two of its aspects broken, the rest valid (so the broken one is what the parser meets). */
function multipartArb(route: FuzzRoute): fc.Arbitrary<MultipartSpec> {
  const worker = route.url.startsWith('/v1/worker/');
  const base64 = route.url.endsWith('/base64');
  const aspects: Record<keyof MultipartSpec, fc.Arbitrary<unknown>> = {
    header: fc.constantFrom('missing' as const, 'other' as const, 'quoted' as const, 'empty' as const),
    closing: fc.constant(false),
    fieldsBefore: fc.integer({ min: 1, max: 14 }), // the parser's limit is 10
    fileField: fc.constantFrom('files', 'File', '', 'report'),
    filename: fileName,
    fileType: fc.constantFrom('text/csv', 'application/json', 'application/octet-stream', 'application/x-ndjson', 'image/png', '', 'x'),
    content: fc.oneof(
      w(1, fc.string({ maxLength: 200 }).map((text) => ({ kind: 'text' as const, text }))),
      w(1, hex(200).map((h) => ({ kind: 'hex' as const, hex: h }))),
      w(base64 ? 6 : 0, base64Text.map((text) => ({ kind: 'base64' as const, text }))),
    ),
    report: worker
      ? fc.oneof(w(1, fc.constant('none' as const)), w(1, fc.constantFrom('{', '[]', 'null', '"x"').map((text) => ({ text }))),
          w(2, fc.array(jsonMutation, { minLength: 1, maxLength: 2 }).map((mutations) => ({ mutations }))))
      : fc.constant('none' as const),
    extraFileParts: fc.integer({ min: 1, max: 9 }),
  };
  const names = Object.keys(aspects) as Array<keyof MultipartSpec>;
  const pickOne = fc.constantFrom(...names, ...(base64 ? ['content' as const, 'content' as const, 'content' as const] : []));
  return fc.tuple(fc.nat(20), fc.array(pickOne, { minLength: 1, maxLength: 2 })).chain(([n, broken]) => {
    const valid = validMultipart(route, n);
    return fc.record(Object.fromEntries(names.map((k) => [k, broken.includes(k) ? aspects[k] : fc.constant(valid[k])]))) as fc.Arbitrary<MultipartSpec>;
  });
}

function bodyArb(route: FuzzRoute): fc.Arbitrary<BodySpec> {
  const huge = fc.integer({ min: 1, max: 64 * 1024 }).map((over) => ({ kind: 'huge' as const, over }));
  switch (route.body) {
    case 'json':
      return fc.oneof(w(60, jsonBody), w(3, huge));
    case 'multipart':
      return fc.oneof(w(12, multipartArb(route).map((mp) => ({ kind: 'multipart' as const, mp }))), w(1, jsonBody));
    case 'bytes': // the seeded upload's one part is 10 bytes
      return fc.oneof(w(3, hex(24).map((h) => ({ kind: 'hex' as const, hex: h }))), w(5, fc.constant({ kind: 'hex' as const, hex: '00'.repeat(10) })), w(1, jsonBody));
    default:
      return fc.oneof(w(10, fc.constant({ kind: 'none' as const })), w(2, jsonBody), w(1, hex(32).map((h) => ({ kind: 'hex' as const, hex: h }))));
  }
}

const authArb = (route: FuzzRoute): fc.Arbitrary<AuthMode> => fc.oneof(
  w(route.auth === 'worker' ? 1 : 14, fc.constant('own' as const)),
  w(2, fc.constant('other' as const)),
  w(route.auth === 'worker' ? 14 : 1, fc.constant('worker' as const)),
  w(2, fc.constant('none' as const)),
  w(1, fc.constantFrom('garbage' as const, 'malformed' as const)),
);

const contentTypeArb: fc.Arbitrary<string | null> = fc.oneof(
  w(12, fc.constant('auto')),
  w(1, fc.constant(null)),
  w(3, fc.constantFrom(
    'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'multipart/form-data; boundary=', 'multipart/mixed; boundary=x',
    'application/json; charset=latin1', 'application/octet-stream', 'image/png', 'x', '\u0001', 'application/json, text/plain', 'multipart/form-data; boundary="unterminated',
  )),
);

const headerArb: fc.Arbitrary<Array<[string, string]>> = fc.array(fc.oneof(
  fc.constantFrom<[string, string]>(
    ['accept', 'text/event-stream'], ['accept', 'application/json'], ['range', 'bytes=0-1'], ['range', 'bytes=-0'], ['range', 'bytes=5-1'], ['range', 'bytes=0-1,3-4'],
    ['range', 'bytes=99999999999999999999-'], ['range', 'bytes=-99999999999999999999'], ['range', 'lines=1-2'], ['x-ftnode-lease-token', '@@own.leaseToken'],
    ['x-ftnode-lease-token', '99999999999999999999'], ['x-ftnode-lease-token', 'abc'], ['idempotency-key', 'fuzz-idem'], ['expect', '100-continue'],
    ['content-encoding', 'gzip'], ['transfer-encoding', 'identity'], ['x-forwarded-for', '::1'], ['host', ''], ['host', 'evil.example:1'],
  ),
  fc.integer({ min: 8_000, max: 40_000 }).map((n): [string, string] => ['x-fuzz-big', 'h'.repeat(n)]), // past Node's 16 KB header limit, or close to it
  fc.string({ unit: 'grapheme-ascii', maxLength: 300 }).map((v): [string, string] => ['idempotency-key', v]),
), { maxLength: 2 });

/** Routes with the attempt in the path take the lease token in a header: mostly the real one. */
const fencedHeaderArb: fc.Arbitrary<Array<[string, string]>> = fc.oneof(
  w(4, headerArb.map((h): Array<[string, string]> => [['x-ftnode-lease-token', '@@own.leaseToken'], ...h])),
  w(1, headerArb),
);

const framingArb: fc.Arbitrary<Framing> = fc.oneof(
  w(30, fc.constant('exact' as const)),
  w(3, fc.constant('chunked' as const)),
  w(3, fc.constant('long-close' as const)),
  w(1, fc.constantFrom('cl-te' as const, 'bad-cl' as const, 'short-cl' as const)),
);

const spellingArb: fc.Arbitrary<Spelling> = fc.oneof(
  w(20, fc.constant('plain' as const)),
  w(1, fc.constantFrom('v-encoded' as const, 'dot-encoded' as const, 'absolute' as const, 'double-slash' as const, 'trailing-slash' as const, 'dot-segment' as const)),
);

/** A parameter as a valid request has it: one of our organization's seeded resources, or a plain valid value. */
function validParamArb(route: FuzzRoute, name: string): fc.Arbitrary<Piece> {
  const refs = refsForParam(route, name).filter((r) => !r.startsWith('other.'));
  return refs.length > 0 ? fc.constantFrom(...refs).map((ref) => ({ ref })) : fc.constant({ ref: `plain:${name}` });
}

function validBodyArb(route: FuzzRoute): fc.Arbitrary<BodySpec> {
  switch (route.body) {
    case 'json':
      return fc.constant({ kind: 'sample', mutations: [] });
    case 'bytes':
      return fc.constant({ kind: 'hex', hex: '00'.repeat(10) });
    case 'multipart':
      return fc.nat(20).map((n) => ({ kind: 'multipart' as const, mp: validMultipart(route, n) }));
    default:
      return fc.constant({ kind: 'none' });
  }
}

/**
 * The parts of a request that can be hostile. Most cases break one or two of them and keep the rest
 * valid, so that a hostile value meets the code behind the checks the other parts would fail first
 * (a hostile body behind a valid key, id and framing reaches the handler); a few break any number.
 */
const DIMENSIONS = ['params', 'spelling', 'query', 'auth', 'contentType', 'headers', 'body', 'framing'] as const;
type Dimension = (typeof DIMENSIONS)[number];

const hostileDims: fc.Arbitrary<Dimension[]> = fc.oneof(
  w(1, fc.constant<Dimension[]>([])),
  // one part: the inputs handlers read (path, query, body) twice as often as the envelope of the request
  w(6, fc.constantFrom<Dimension>('params', 'params', 'query', 'query', 'body', 'body', 'auth', 'spelling', 'contentType', 'headers', 'framing').map((d) => [d])),
  w(3, fc.subarray([...DIMENSIONS], { minLength: 2, maxLength: 2 })),
  w(2, fc.subarray([...DIMENSIONS], { minLength: 3 })),
);

export function caseArb(routes: FuzzRoute[]): fc.Arbitrary<FuzzCase> {
  return fc.tuple(fc.constantFrom(...routes), hostileDims).chain(([route, hostile]) => {
    const names = [...route.url.matchAll(/:([a-z_]+)|\*/g)].map((m) => m[1] ?? '*');
    const pick = <T>(dim: Dimension, valid: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> => (hostile.includes(dim) ? bad : valid);
    const params = (arb: (r: FuzzRoute, n: string) => fc.Arbitrary<Piece>) => fc.record(Object.fromEntries(names.map((n) => [n, arb(route, n)]))) as fc.Arbitrary<Record<string, Piece>>;
    const sample = sampleQuery(route);
    const fenced = route.url.includes(':attempt_id');
    return fc.record({
      route: fc.constant(route),
      params: pick('params', params(validParamArb), params(paramArb)),
      spelling: pick('spelling', fc.constant('plain' as Spelling), spellingArb),
      query: pick('query', fc.constant(sample ? sample.map(([k, ref]): [string, Piece] => [k, { ref }]) : []), queryArb(route)),
      auth: pick('auth', fc.constant<AuthMode>(route.auth === 'worker' ? 'worker' : 'own'), authArb(route)),
      contentType: pick('contentType', fc.constant<string | null>('auto'), contentTypeArb),
      headers: pick('headers', fc.constant<Array<[string, string]>>(fenced ? [['x-ftnode-lease-token', '@@own.leaseToken']] : []), fenced ? fencedHeaderArb : headerArb),
      body: pick('body', validBodyArb(route), bodyArb(route)),
      framing: pick('framing', fc.constant<Framing>('exact'), framingArb),
      keepAlive: fc.boolean(),
    });
  });
}
