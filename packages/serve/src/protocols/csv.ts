import { type Column, Frame } from "@mlops/core";
import { ServeError } from "../errors.js";

/**
 * CSV request bodies (MLflow's `text/csv`), read the way core reads CSV files: RFC 4180 quoting
 * (`""` inside quotes is a quote, quoted fields may hold delimiters and newlines, text after a
 * closing quote is kept, as Python's csv module does), LF / CRLF / CR line ends, a leading BOM
 * ignored, blank lines skipped, the first record the header. Every cell stays text: the
 * schema's `conformFrame` then parses numbers and missing tokens ("", NA, NaN, null…) exactly
 * as for a file.
 */

function malformed(message: string): ServeError {
  return new ServeError("malformed_csv", `CSV body: ${message}`);
}

/** One text column being built: a code per row into the distinct values seen. */
class TextColumn {
  readonly codes: number[] = [];
  readonly dictionary: string[] = [];
  readonly #index = new Map<string, number>();

  push(text: string): void {
    let code = this.#index.get(text);
    if (code === undefined) {
      code = this.dictionary.length;
      this.dictionary.push(text);
      this.#index.set(text, code);
    }
    this.codes.push(code);
  }

  column(): Column {
    return { kind: "category", codes: Int32Array.from(this.codes), dictionary: this.dictionary };
  }
}

/**
 * Parses a CSV body into a Frame of text columns named by its header. Throws 400
 * `malformed_csv` for an empty body, a duplicate column, a row with the wrong number of fields
 * or an unterminated quote, and 413 `too_many_rows` past `maxRows`.
 *
 * @example
 * const frame = parseCsvText('alcohol,color\n9.4,"red"\n', 1000);
 * frame.rowCount; // 1
 */
export function parseCsvText(text: string, maxRows: number, delimiter = ","): Frame {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const length = source.length;
  const separator = delimiter.charCodeAt(0);
  let header: string[] | undefined;
  let columns: TextColumn[] = [];
  let rows = 0;
  let line = 1;
  let position = 0;
  const fields: string[] = [];

  while (position < length) {
    const recordLine = line;
    fields.length = 0;
    // A blank line (nothing before its line end) is skipped, as pandas and core do.
    const first = source.charCodeAt(position);
    if (first === 10 || first === 13) {
      position += first === 13 && source.charCodeAt(position + 1) === 10 ? 2 : 1;
      line++;
      continue;
    }
    // One record: fields until an unquoted line end or the end of the text.
    while (true) {
      let value: string;
      if (source.charCodeAt(position) === 34) {
        let text = "";
        let start = position + 1;
        while (true) {
          const quote = source.indexOf('"', start);
          if (quote < 0) {
            throw malformed(
              `line ${recordLine}: unterminated quoted field (the quote is never closed)`,
            );
          }
          text += source.slice(start, quote);
          for (let i = start; i < quote; i++) if (source.charCodeAt(i) === 10) line++;
          if (source.charCodeAt(quote + 1) === 34) {
            text += '"';
            start = quote + 2;
            continue;
          }
          position = quote + 1;
          break;
        }
        // Text between the closing quote and the delimiter is kept (Python's csv module).
        let end = position;
        while (end < length) {
          const code = source.charCodeAt(end);
          if (code === separator || code === 10 || code === 13) break;
          end++;
        }
        value = text + source.slice(position, end);
        position = end;
      } else {
        let end = position;
        while (end < length) {
          const code = source.charCodeAt(end);
          if (code === separator || code === 10 || code === 13) break;
          end++;
        }
        value = source.slice(position, end);
        position = end;
      }
      fields.push(value);
      if (position < length && source.charCodeAt(position) === separator) {
        position++;
        continue;
      }
      break;
    }
    // The line end.
    if (position < length) {
      position +=
        source.charCodeAt(position) === 13 && source.charCodeAt(position + 1) === 10 ? 2 : 1;
    }
    line++;
    if (header === undefined) {
      const seen = new Set<string>();
      for (const name of fields) {
        if (seen.has(name)) throw malformed(`line ${recordLine}: duplicate column "${name}"`);
        seen.add(name);
      }
      header = [...fields];
      columns = header.map(() => new TextColumn());
      continue;
    }
    if (fields.length !== header.length) {
      throw malformed(
        `line ${recordLine}: ${fields.length} fields, expected ${header.length} like the header`,
      );
    }
    rows++;
    if (rows > maxRows) {
      throw new ServeError("too_many_rows", `more than the limit of ${maxRows} rows per request`);
    }
    for (let c = 0; c < fields.length; c++) columns[c].push(fields[c]);
  }
  if (header === undefined) throw malformed("empty (expected a header line, then rows)");
  return new Frame(
    header.map((name, c) => [name, columns[c].column()] as const),
    rows,
  );
}
