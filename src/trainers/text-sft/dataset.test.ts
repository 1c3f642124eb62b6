/**
 * Tests: dataset containers (JSONL, JSON array, YAML stream / list, sniffing) and every validation
 * problem with its line number, through readDatasetText and the trainer's validate().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectContainer, parseContainer } from './containers.js';
import { MAX_LINE_BYTES, readDatasetText, WHOLE_FILE_MAX_BYTES } from './dataset.js';
import { sftExample, tempDir } from './fixtures.js';
import { textSftTrainer } from './index.js';

const ok = (i: number) => sftExample(`input ${i}`, `label ${i % 2}`, 'classify');

test('JSONL: one example a line, blank lines ignored, line numbers kept', () => {
  const text = `${JSON.stringify(ok(1))}\n\n${JSON.stringify(ok(2))}\r\n   \n${JSON.stringify(ok(3))}\n`;
  const { examples, problems } = readDatasetText('a.jsonl', 'a.jsonl', text);
  assert.deepEqual(problems, []);
  assert.deepEqual(examples.map((e) => e.line), [1, 3, 5]);
  assert.deepEqual(examples.map((e) => e.label), ['label 1', 'label 0', 'label 1']);
  assert.equal(examples[0].text, 'classify\ninput 1');
});

test('JSON array: elements with their starting lines; a single object is one example', () => {
  const pretty = JSON.stringify(ok(2), null, 2);
  const text = `[\n  ${JSON.stringify(ok(1))},\n  ${pretty.replace(/\n/g, '\n  ')}\n, ${JSON.stringify(ok(3))}]`;
  const parsed = parseContainer('d.json', text);
  assert.equal(parsed.container, 'json');
  assert.deepEqual(parsed.examples.map((e) => e.line), [2, 3, 3 + pretty.split('\n').length]);
  const single = readDatasetText('one.json', 'one.json', `\n\n${JSON.stringify(ok(4))}`);
  assert.deepEqual(single.problems, []);
  assert.equal(single.examples[0].line, 3);
});

test('YAML: a `---` stream, a document that is a list, and field-level lines', () => {
  const stream = [
    'lens_parameters:',
    '  instruction: You are a retail monitoring system',
    'inputs:',
    '  - type: data.text',
    '    event_data:',
    '      contents: |',
    '        - sensor_name: Entrance',
    '          log:',
    '            - {presence_state: "active", timestamp: "2025-08-18T12:25:00"}',
    'outputs:',
    '  - type: data.text',
    '    event_data: {contents: "[12:25 - 12:30] customer enters"}',
    '---',
    'inputs: [{type: data.text, event_data: {contents: "second"}}]',
    'outputs: [{type: data.text, event_data: {contents: "b"}}]',
    '---',
    '',
  ].join('\n');
  const a = readDatasetText('s.yaml', 's.yaml', stream);
  assert.deepEqual(a.problems, []);
  assert.deepEqual(a.examples.map((e) => [e.line, e.label]), [[1, '[12:25 - 12:30] customer enters'], [14, 'b']]);
  assert.match(a.examples[0].text, /^You are a retail monitoring system\n- sensor_name: Entrance\n/);

  const list = ['- inputs: [{type: data.text, event_data: {contents: x}}]', '  outputs: [{type: data.text, event_data: {contents: y}}]', '- inputs: []', '  outputs: [{type: data.text, event_data: {contents: y}}]'].join('\n');
  const b = readDatasetText('l.yml', 'l.yml', list);
  assert.equal(b.examples.length, 1);
  assert.deepEqual(b.problems, [{ file_id: 'l.yml', line: 3, message: 'example 2: `inputs` must be a non-empty list of events' }]);

  const deep = ['inputs:', '  - type: data.text', '    event_data:', '      contents: 42', 'outputs: [{type: data.text, event_data: {contents: y}}]'].join('\n');
  const c = readDatasetText('d.yaml', 'd.yaml', deep);
  assert.deepEqual(c.problems.map((p) => [p.line, p.message]), [[4, 'example 1: `inputs[0].event_data.contents` must be a string']]);
});

test('container detection: by extension, then by sniffing the content', () => {
  const line = JSON.stringify(ok(1));
  assert.equal(detectContainer('x.jsonl', '[]'), 'jsonl');
  assert.equal(detectContainer('x.ndjson', ''), 'jsonl');
  assert.equal(detectContainer('x.JSON', ''), 'json');
  assert.equal(detectContainer('x.yml', '{}'), 'yaml');
  assert.equal(detectContainer('x.txt', `  [${line}]`), 'json');
  assert.equal(detectContainer('x.txt', line), 'json');
  assert.equal(detectContainer('x.txt', `${line}\n${line}`), 'jsonl');
  assert.equal(detectContainer('blob', 'inputs: []'), 'yaml');
  // A `.json` upload that really holds JSONL is read as JSONL.
  const r = readDatasetText('x.json', 'x.json', `${line}\n${line}\n`);
  assert.deepEqual(r.problems, []);
  assert.equal(r.examples.length, 2);
  // A byte-order mark does not get in the way.
  assert.equal(readDatasetText('b.jsonl', 'b.jsonl', `\ufeff${line}\n`).examples.length, 1);
});

test('every validation problem, with its line and example number', () => {
  const bad: unknown[] = [
    ok(1), // line 1: fine
    'just a string', // 2
    { outputs: ok(1).outputs }, // 3: no inputs
    { inputs: [], outputs: ok(1).outputs }, // 4: empty inputs
    { inputs: [{ type: 'data.text', event_data: { contents: 5 } }], outputs: ok(1).outputs }, // 5
    { inputs: [{ type: 'data.text' }], outputs: ok(1).outputs }, // 6: no event_data
    { inputs: ok(1).inputs }, // 7: no outputs
    { inputs: ok(1).inputs, outputs: [{ type: 'data.image', event_data: { contents: 'x' } }] }, // 8: no data.text output
    { inputs: ok(1).inputs, outputs: [{ type: 'data.text', event_data: { contents: null } }] }, // 9
    { inputs: ok(1).inputs, outputs: ok(1).outputs, lens_parameters: { instruction: 3 } }, // 10
    { inputs: ok(1).inputs, outputs: ok(1).outputs, lens_parameters: 'x' }, // 11
  ];
  const text = bad.map((e) => JSON.stringify(e)).join('\n') + '\n{"inputs": [\n';
  const { examples, problems } = readDatasetText('bad.jsonl', 'bad.jsonl', text);
  assert.equal(examples.length, 1);
  // Container (parse) problems come first: the unfinished JSON object on line 12.
  assert.equal(problems[0].line, 12);
  assert.match(problems[0].message, /^example 12: invalid JSON/);
  assert.deepEqual(problems.slice(1).map((p) => `${p.line}|${p.message}`), [
    '2|example 2: an example must be an object with `inputs` and `outputs`',
    '3|example 3: `inputs` must be a non-empty list of events',
    '4|example 4: `inputs` must be a non-empty list of events',
    '5|example 5: `inputs[0].event_data.contents` must be a string',
    '6|example 6: `inputs[0].event_data.contents` must be a string',
    '7|example 7: `outputs` must be a list holding at least one data.text event',
    '8|example 8: `outputs` must hold at least one event with `type: "data.text"` and string `event_data.contents`',
    '9|example 9: `outputs` must hold at least one event with `type: "data.text"` and string `event_data.contents`',
    '10|example 10: `lens_parameters.instruction` must be a string',
    '11|example 11: `lens_parameters` must be an object',
  ]);
  assert.ok(problems.every((p) => p.file_id === 'bad.jsonl'));
});

test('invalid JSON and YAML report the line of the error; empty files are a problem', () => {
  // A broken element is reported on its line, and the others are still checked.
  const good = JSON.stringify(ok(1));
  // (A missing comma keeps the brackets balanced; the string element tests the scanner's escapes.)
  const json = readDatasetText('x.json', 'x.json', `[\n  ${good},\n  {"inputs": [1 2]},\n  "text, with ] and \\" inside",\n  ${good}\n]`);
  assert.deepEqual(json.problems.map((p) => [p.line, p.message.split(':')[0]]), [[3, 'example 2'], [4, 'example 3']]);
  assert.match(json.problems[0].message, /^example 2: invalid JSON/);
  assert.match(json.problems[1].message, /^example 3: an example must be an object/);
  assert.equal(json.examples.length, 2);
  const unclosed = readDatasetText('u.json', 'u.json', `[\n  ${good},\n  ${good}\n\n`);
  assert.equal(unclosed.problems.length, 1);
  assert.match(unclosed.problems[0].message, /^invalid JSON/);
  // The end of the input (V8 points past the trailing blank lines when it gives a position).
  assert.ok(unclosed.problems[0].line! >= 3 && unclosed.problems[0].line! <= 5, String(unclosed.problems[0].line));
  const yaml = readDatasetText('x.yaml', 'x.yaml', 'inputs: [\n  a: b\n  - c\n');
  assert.equal(yaml.problems.length, 1);
  assert.match(yaml.problems[0].message, /^example 1: invalid YAML/);
  assert.equal(typeof yaml.problems[0].line, 'number');
  for (const [name, text] of [['e.jsonl', ''], ['e.json', '[]'], ['e.yaml', '---\n'], ['e.jsonl', '\n \n']]) {
    assert.deepEqual(readDatasetText(name, name, text).problems.map((p) => p.message.split(' (')[0]), ['file contains no examples'], name);
  }
  assert.match(readDatasetText('n.json', 'n.json', '42').problems[0].message, /must be an array of examples/);
});

test('validate(): all problems across files (capped at 20), missing files, and no train examples', async () => {
  const dir = tempDir();
  const good = join(dir, 'good.jsonl');
  writeFileSync(good, `${JSON.stringify(ok(1))}\n`);
  const many = join(dir, 'many.jsonl');
  writeFileSync(many, Array.from({ length: 30 }, () => '{"inputs": []}').join('\n'));
  const file = (p: string) => ({ file_id: p.split('/').pop()!, path: p });

  assert.deepEqual(await textSftTrainer.validate({ config: {}, datasets: [{ name: 't', split: 'train', files: [file(good)] }] }), []);

  const capped = await textSftTrainer.validate({ config: {}, datasets: [{ name: 't', split: 'train', files: [file(many), file(good)] }] });
  assert.equal(capped.length, 20);
  // Each `{"inputs": []}` line has two problems: empty inputs and no outputs.
  assert.deepEqual(capped.slice(0, 3).map((p) => p.line), [1, 1, 2]);

  const twoFiles = await textSftTrainer.validate({
    config: {},
    datasets: [
      { name: 't', split: 'train', files: [file(good), { file_id: 'gone.jsonl', path: join(dir, 'gone.jsonl') }] },
      { name: 'e', split: 'eval', files: [file(good)] },
    ],
  });
  assert.deepEqual(twoFiles.map((p) => [p.file_id, p.message]), [['gone.jsonl', 'cannot read file: ENOENT']]);

  const evalOnly = await textSftTrainer.validate({ config: {}, datasets: [{ name: 'e', split: 'eval', files: [file(good)] }] });
  assert.equal(evalOnly.length, 1);
  assert.match(evalOnly[0].message, /no training examples/);
});

test('validate() streams: JSONL problems match the whole-text reader; long lines and large documents are named', async () => {
  const dir = tempDir();
  const file = (name: string, text: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return { file_id: name, path };
  };
  const v = (f: { file_id: string; path: string }) => textSftTrainer.validate({ config: {}, datasets: [{ name: 't', split: 'train', files: [f] }] });
  // The same problems, in line order, as readDatasetText gives for the same text.
  const text = [JSON.stringify(ok(1)), '{"inputs": [', '', JSON.stringify({ inputs: [] }), JSON.stringify(ok(2))].join('\r\n');
  const whole = readDatasetText('m.jsonl', 'm.jsonl', text).problems.sort((a, b) => a.line! - b.line!);
  assert.deepEqual(await v(file('m.jsonl', text)), whole);
  // A line over 16 MiB is one problem; the lines after it are still read.
  const long = `{"inputs": "${'x'.repeat(MAX_LINE_BYTES)}"}`;
  const p = await v(file('long.jsonl', `${JSON.stringify(ok(1))}\n${long}\n{"inputs": []}\n`));
  assert.deepEqual(p.map((e) => [e.line, e.message.split(':')[0]]), [[2, 'example 2'], [3, 'example 3'], [3, 'example 3']]);
  assert.match(p[0]!.message, /holds 16777230 bytes; a JSONL line may hold at most 16777216/);
  // Past 64 MiB a JSON array is refused (it would be parsed whole); JSONL named .json streams.
  const line = JSON.stringify(ok(3));
  const lines = Math.ceil((WHOLE_FILE_MAX_BYTES + 1) / (line.length + 2));
  const rows = Array.from({ length: lines }, () => line);
  const arr = await v(file('big.json', `[${rows.join(',\n')}]`));
  assert.equal(arr.length, 1);
  assert.match(arr[0]!.message, /a JSON array or YAML dataset is parsed whole and may hold at most 67108864 bytes/);
  assert.deepEqual(await v(file('big-lines.json', `${rows.join('\n')}\n`)), []);
  rmSync(dir, { recursive: true, force: true }); // ~150 MB of files
});
