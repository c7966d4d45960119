import { type Frame, MlopsError } from "@mlops/core";
import { readCsvText } from "@mlops/core/internal";
import { ServeError } from "../errors.js";

const encoder = new TextEncoder();

/**
 * Parses a CSV request body (MLflow's `text/csv`) into a Frame of text columns named by its
 * header, with core's CSV reader — the same parser and rules as for a file: RFC 4180 quoting,
 * LF / CRLF / CR line ends, a leading BOM ignored, blank lines skipped, the first record the
 * header. Every cell stays text: the schema's `conformFrame` then parses numbers and missing
 * tokens ("", NA, NaN, null…) exactly as for a file. Throws 400 `malformed_csv` with the
 * reader's message (an empty body, a duplicate or empty column name, a row with the wrong number
 * of fields, an unterminated quote) and 413 `too_many_rows` past `maxRows`.
 *
 * @example
 * const frame = parseCsvText('alcohol,color\n9.4,"red"\n', 1000);
 * frame.rowCount; // 1
 */
export function parseCsvText(text: string, maxRows: number, delimiter = ","): Frame {
  let result: ReturnType<typeof readCsvText>;
  try {
    result = readCsvText(encoder.encode(text), { name: "CSV body", maxRows, delimiter });
  } catch (error) {
    if (MlopsError.isInstance(error)) {
      throw new ServeError("malformed_csv", error.message, { cause: error });
    }
    throw error;
  }
  if (result.truncated) {
    throw new ServeError("too_many_rows", `more than the limit of ${maxRows} rows per request`);
  }
  return result.frame;
}
