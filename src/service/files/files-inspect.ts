/**
 * Dataset checks at upload time, computed on the upload stream itself (no second read, constant
 * memory) and recorded in the file's `file_attributes`:
 * - CSV: header columns, column count, data row count, first data row whose column count differs;
 * - JSONL (and .json, read as JSON Lines, the format the trainers take): line count, first line
 *   that is not JSON.
 * Cost bound ("where cheap"): the full checks (a quote-aware CSV field scan at ~480 MB/s, one
 * JSON.parse per line) run on the first 64 MiB; past that rows and lines are still counted exactly
 * by native newline search (~3 GB/s), and a CSV chunk that contains a quote is still scanned byte by
 * byte because a quoted field may hold a newline. `checked_rows` / `checked_lines` say how many
 * records the full checks covered.
 */

export const FULL_CHECK_BYTES = 64 * 1024 * 1024;
const HEADER_CAP = 64 * 1024; // header bytes kept for column names
const MAX_NAMES = 1000; // column names recorded; num_columns stays exact
const MAX_LINE = 16 * 1024 * 1024; // a longer JSON line is counted, not parsed

export interface Inspector {
  update(chunk: Buffer): void;
  result(): Record<string, unknown>;
}

export function inspectorFor(fileName: string, fileType: string): Inspector | null {
  const ext = fileName.slice(fileName.lastIndexOf('.') + 1).toLowerCase();
  if (ext === 'csv' || fileType === 'text/csv') return new CsvInspector();
  if (['jsonl', 'ndjson', 'json'].includes(ext) || fileType === 'application/x-ndjson') return new JsonlInspector();
  return null;
}

/** A line/record counts when it holds more than a lone '\r'. */
function hasContent(b: Buffer, start: number, end: number): boolean {
  return end - start > 1 || (end - start === 1 && b[start] !== 13);
}

class CsvInspector implements Inspector {
  private inQuotes = false;
  private fields = 1; // fields of the record being read
  private content = false; // the record being read has a byte other than '\r'
  private fieldsKnown = true; // false when the record began in a fast-path chunk
  private headerParts: Buffer[] = [];
  private headerLen = 0;
  private columns: string[] | null = null;
  private numColumns = 0;
  private rows = 0;
  private checkedRows = 0;
  private firstBad: { row: number; columns: number } | null = null;
  private seen = 0;

  update(chunk: Buffer): void {
    const fast = this.seen >= FULL_CHECK_BYTES && this.columns !== null && !this.inQuotes && chunk.indexOf(34) === -1;
    if (fast) this.countLines(chunk);
    else this.scan(chunk);
    this.seen += chunk.length;
  }

  result(): Record<string, unknown> {
    if (this.content) this.endRecord();
    return {
      format: 'csv',
      columns: this.columns ?? [],
      num_columns: this.numColumns,
      num_rows: this.rows,
      first_bad_row: this.firstBad?.row ?? null,
      first_bad_row_columns: this.firstBad?.columns ?? null,
      checked_rows: this.checkedRows,
    };
  }

  private scan(b: Buffer): void {
    let recStart = 0;
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c === 34) {
        this.inQuotes = !this.inQuotes; // "" inside quotes toggles twice: an escaped quote
        this.content = true;
      } else if (this.inQuotes) {
        continue;
      } else if (c === 44) {
        this.fields++;
        this.content = true;
      } else if (c === 10) {
        if (this.columns === null) this.keepHeader(b.subarray(recStart, i));
        this.endRecord();
        recStart = i + 1;
      } else if (c !== 13) {
        this.content = true;
      }
    }
    if (this.columns === null) this.keepHeader(b.subarray(recStart));
  }

  private countLines(b: Buffer): void {
    let start = 0;
    for (let nl = b.indexOf(10); nl !== -1; nl = b.indexOf(10, start)) {
      if (this.content || hasContent(b, start, nl)) this.rows++; // column count not checked here
      this.content = false;
      this.fields = 1;
      this.fieldsKnown = true;
      start = nl + 1;
    }
    if (hasContent(b, start, b.length)) {
      this.content = true;
      this.fieldsKnown = false;
    }
  }

  private keepHeader(part: Buffer): void {
    if (this.headerLen >= HEADER_CAP || part.length === 0) return;
    const kept = part.subarray(0, HEADER_CAP - this.headerLen);
    this.headerParts.push(Buffer.from(kept)); // a copy: the chunk's memory is reused upstream
    this.headerLen += kept.length;
  }

  private endRecord(): void {
    if (!this.content) {
      this.headerParts = []; // a blank line: not a record (and not the header)
      this.headerLen = 0;
    } else if (this.columns === null) {
      this.numColumns = this.fields;
      this.columns = parseHeader(Buffer.concat(this.headerParts).toString('utf8')).slice(0, MAX_NAMES);
      this.headerParts = [];
    } else {
      this.rows++;
      if (this.fieldsKnown) this.check();
    }
    this.fields = 1;
    this.content = false;
    this.fieldsKnown = true;
  }

  private check(): void {
    this.checkedRows++;
    if (this.fields !== this.numColumns && !this.firstBad) this.firstBad = { row: this.rows, columns: this.fields };
  }
}

/** Column names of a CSV header line: commas outside quotes split, "" inside quotes is a quote. */
function parseHeader(line: string): string[] {
  const text = line.replace(/^\uFEFF/, '').replace(/\r$/, '');
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      if (quoted && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

class JsonlInspector implements Inspector {
  private carry: Buffer[] = [];
  private carryLen = 0;
  private carryTooLong = false;
  private pending = false; // fast path: the current line has content
  private line = 0; // physical lines finished
  private records = 0;
  private checked = 0;
  private firstInvalid: { line: number; error: string } | null = null;
  private seen = 0;

  update(chunk: Buffer): void {
    if (this.seen >= FULL_CHECK_BYTES || this.firstInvalid) this.countLines(chunk);
    else this.parseLines(chunk);
    this.seen += chunk.length;
  }

  result(): Record<string, unknown> {
    if (this.carryLen > 0) this.finishLine(Buffer.concat(this.carry));
    else if (this.pending) this.records++;
    return {
      format: 'jsonl',
      num_lines: this.records,
      first_invalid_line: this.firstInvalid?.line ?? null,
      first_invalid_error: this.firstInvalid?.error ?? null,
      checked_lines: this.checked,
    };
  }

  private parseLines(b: Buffer): void {
    let start = 0;
    for (let nl = b.indexOf(10); nl !== -1; nl = b.indexOf(10, start)) {
      const piece = b.subarray(start, nl);
      this.finishLine(this.carryLen > 0 ? Buffer.concat([...this.carry, piece]) : piece);
      start = nl + 1;
      if (this.firstInvalid) return this.countLines(b.subarray(start));
    }
    this.addCarry(b.subarray(start));
  }

  private addCarry(rest: Buffer): void {
    if (rest.length === 0) return;
    if (this.carryLen + rest.length > MAX_LINE) {
      this.carryTooLong = true; // keep one byte so the line still counts
      this.carry = [Buffer.from('x')];
      this.carryLen = 1;
      return;
    }
    this.carry.push(Buffer.from(rest));
    this.carryLen += rest.length;
  }

  private finishLine(bytes: Buffer): void {
    this.line++;
    const tooLong = this.carryTooLong;
    this.carry = [];
    this.carryLen = 0;
    this.carryTooLong = false;
    const text = (this.line === 1 ? bytes.toString('utf8').replace(/^\uFEFF/, '') : bytes.toString('utf8')).trim();
    if (text === '') return;
    this.records++;
    if (tooLong) return;
    this.checked++;
    try {
      JSON.parse(text);
    } catch (err) {
      if (!this.firstInvalid) this.firstInvalid = { line: this.line, error: (err as Error).message.slice(0, 200) };
    }
  }

  private countLines(b: Buffer): void {
    if (this.carryLen > 0) {
      this.pending = true; // a line begun while parsing: it has content
      this.carry = [];
      this.carryLen = 0;
    }
    let start = 0;
    for (let nl = b.indexOf(10); nl !== -1; nl = b.indexOf(10, start)) {
      if (this.pending || hasContent(b, start, nl)) this.records++;
      this.line++;
      this.pending = false;
      start = nl + 1;
    }
    if (hasContent(b, start, b.length)) this.pending = true;
  }
}
