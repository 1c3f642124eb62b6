/**
 * Dataset containers for Newton SFT files: JSONL (one example a line, blank lines ignored), a JSON
 * array (or one JSON object), and a YAML document stream (`---` separated; a document that is a list
 * holds several examples). This file only splits a file into raw example values with the 1-based
 * line each starts on (and, for YAML, the line of any field inside); it does not judge their shape.
 * Container choice: by extension (.jsonl/.ndjson, .json, .yaml/.yml), else by sniffing the content.
 * These functions take a whole text; dataset.ts streams large JSONL files line by line through
 * parseJsonlLine, so both paths judge a line the same way.
 */
import { isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';

export type Container = 'jsonl' | 'json' | 'yaml';
export type FieldPath = Array<string | number>;

export interface RawExample {
  value: unknown;
  /** 0-based position among the file's examples (broken ones included). */
  index: number;
  /** 1-based line where the example starts. */
  line: number;
  /** Best line for a field inside the example (YAML knows every node's position; others give `line`). */
  locate(path: FieldPath): number;
}

export interface ContainerProblem {
  line?: number;
  message: string;
}

export interface ParsedContainer {
  container: Container;
  examples: RawExample[];
  problems: ContainerProblem[];
}

export function detectContainer(fileName: string, text: string): Container {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  const body = stripBom(text).trimStart();
  if (body.startsWith('[')) return 'json';
  if (body.startsWith('{')) return parsesAsJson(body) ? 'json' : 'jsonl';
  return 'yaml';
}

export function parseContainer(fileName: string, text: string): ParsedContainer {
  const container = detectContainer(fileName, text);
  const body = stripBom(text);
  if (container === 'jsonl') return parseJsonl(body);
  if (container === 'yaml') return parseYaml(body);
  // A `.json` file that is really JSONL (several objects, one a line) is read as JSONL.
  if (!parsesAsJson(body) && body.trimStart().startsWith('{') && firstLineIsObject(body)) return parseJsonl(body);
  return parseJson(body);
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function firstLineIsObject(text: string): boolean {
  const first = text.trimStart().split(/\r?\n/, 1)[0];
  try {
    const v: unknown = JSON.parse(first);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

const at = (line: number) => () => line;

function parseJsonl(text: string): ParsedContainer {
  const out: ParsedContainer = { container: 'jsonl', examples: [], problems: [] };
  const lines = text.split(/\r?\n/);
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const r = parseJsonlLine(lines[i], i + 1, count++);
    if ('value' in r) out.examples.push(r);
    else out.problems.push(r);
  }
  return out;
}

/** One non-blank JSONL line (1-based `line`, 0-based example `index`): its example, or the problem. */
export function parseJsonlLine(text: string, line: number, index: number): RawExample | Required<ContainerProblem> {
  try {
    return { value: JSON.parse(text), index, line, locate: at(line) };
  } catch (err) {
    return { line, message: `example ${index + 1}: invalid JSON: ${(err as Error).message}` };
  }
}

function parseJson(text: string): ParsedContainer {
  const out: ParsedContainer = { container: 'json', examples: [], problems: [] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return parseBrokenJson(text, (err as Error).message);
  }
  if (Array.isArray(value)) {
    const lines = arrayElements(text).map((e) => e.line);
    value.forEach((v, i) => out.examples.push({ value: v, index: i, line: lines[i] ?? 1, locate: at(lines[i] ?? 1) }));
  } else if (typeof value === 'object' && value !== null) {
    const line = lineOfOffset(text, text.length - text.trimStart().length);
    out.examples.push({ value, index: 0, line, locate: at(line) });
  } else {
    out.problems.push({ line: 1, message: 'a JSON dataset must be an array of examples (or one example object)' });
  }
  return out;
}

/**
 * A JSON array that does not parse: parse its top-level elements one by one, so every broken
 * example is reported with its own line and the others are still checked. (Node 20's JSON errors
 * often carry no position, so this is also how the line is found.)
 */
function parseBrokenJson(text: string, message: string): ParsedContainer {
  const out: ParsedContainer = { container: 'json', examples: [], problems: [] };
  const elements = text.trimStart().startsWith('[') ? arrayElements(text) : [];
  elements.forEach((el, i) => {
    const src = text.slice(el.start, el.end);
    try {
      out.examples.push({ value: JSON.parse(src), index: i, line: el.line, locate: at(el.line) });
    } catch (err) {
      const pos = /position (\d+)/.exec((err as Error).message);
      const line = el.line + (pos ? lineOfOffset(src, Number(pos[1])) - 1 : 0);
      out.problems.push({ line, message: `example ${i + 1}: invalid JSON: ${(err as Error).message}` });
    }
  });
  if (out.problems.length === 0) {
    // The elements are fine: the brackets around them are not (e.g. a missing `]`).
    const pos = /position (\d+)/.exec(message);
    out.problems.push({ line: pos ? lineOfOffset(text, Number(pos[1])) : lineOfOffset(text, text.trimEnd().length), message: `invalid JSON: ${message}` });
  }
  return out;
}

function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * The top-level elements of a JSON array: [start, end) offsets and 1-based start line. A light
 * scanner (strings, escapes, nesting depth), so it also splits an array holding a broken element.
 */
function arrayElements(text: string): Array<{ start: number; end: number; line: number }> {
  const out: Array<{ start: number; end: number; line: number }> = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectElement = false;
  let current: { start: number; end: number; line: number } | null = null;
  const close = (at: number) => {
    if (current) out.push({ ...current, end: at });
    current = null;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (expectElement && c !== ' ' && c !== '\t' && c !== '\r' && c !== '\n') {
      if (c !== ']' && c !== ',') current = { start: i, end: i, line };
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (c === ']' || c === '}') {
      if (depth === 1) close(i);
      depth--;
    } else if (c === ',' && depth === 1) {
      close(i);
      expectElement = true;
    }
  }
  close(text.length);
  return out;
}

function parseYaml(text: string): ParsedContainer {
  const out: ParsedContainer = { container: 'yaml', examples: [], problems: [] };
  const lc = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false });
  const docs: Document.Parsed[] = Array.isArray(parsed) ? parsed : [];
  const lineOf = (offset: number | undefined) => (offset === undefined ? 1 : lc.linePos(offset).line);
  let count = 0;
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      out.problems.push({ line: e.linePos?.[0].line ?? lineOf(e.pos[0]), message: `example ${++count}: invalid YAML: ${e.message.split('\n')[0]}` });
      continue;
    }
    // An empty document (e.g. after a trailing `---`) holds no example.
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) continue;
    const locator = (prefix: FieldPath, fallback: number) => (path: FieldPath) => {
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn([...prefix, ...path.slice(0, n)], true) as { range?: [number, number, number] } | undefined;
        if (node && typeof node === 'object' && node.range) return lineOf(node.range[0]);
      }
      return fallback;
    };
    const value: unknown = doc.toJS({ maxAliasCount: 1000 });
    if (isSeq(doc.contents) && Array.isArray(value)) {
      doc.contents.items.forEach((item, i) => {
        const line = lineOf((item as { range?: [number, number, number] }).range?.[0]);
        out.examples.push({ value: value[i], index: count++, line, locate: locator([i], line) });
      });
    } else {
      const line = lineOf(doc.contents.range[0]);
      out.examples.push({ value, index: count++, line, locate: locator([], line) });
    }
  }
  return out;
}
