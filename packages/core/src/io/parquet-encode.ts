// Row groups of flat columns, encoded as hyparquet-writer's ParquetWriter#write encodes them
// (the same bytes and footer entries), with a fast path for the most common column of a
// scored table: DOUBLE without missing values, PLAIN and uncompressed, one page. There
// hyparquet-writer goes value by value (statistics through a generic comparison, Dremel levels
// as arrays, a DataView write per double); here it is one pass for the statistics and one
// copy of the values' bytes.
import type { ColumnChunk, RowGroup, SchemaElement } from "hyparquet";
import { ByteWriter, type ColumnSource, type ParquetWriter } from "hyparquet-writer";
import { writeColumn } from "hyparquet-writer/src/column.js";
import { writePageHeader } from "hyparquet-writer/src/datapage.js";
import { encodeNestedValues } from "hyparquet-writer/src/dremel.js";
import { writeRleBitPackedHybrid } from "hyparquet-writer/src/encoding.js";
import { schemaPathResolver } from "hyparquet-writer/src/schema.js";
import { snappyCompress } from "hyparquet-writer/src/snappy.js";

/** A page index entry the writer keeps until the footer (`ParquetWriter#pendingIndexes`). */
export type PageIndexes = ParquetWriter["pendingIndexes"][number];

/** hyparquet-writer's defaults that ParquetWriter#write uses. */
const PAGE_SIZE = 1_048_576;
const LITTLE_ENDIAN = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f;

/**
 * Appends `rowCount` rows of `columnData` to `sink` as row groups of `rowGroupSize` rows, as
 * `new ParquetWriter({ writer: sink, schema, codec: "UNCOMPRESSED" }).write(...)` would (flat
 * columns, statistics on, no column index or bloom filter), and returns their footer entries.
 */
export function encodeRowGroups(
  sink: ByteWriter,
  schema: SchemaElement[],
  columnData: readonly ColumnSource[],
  rowCount: number,
  rowGroupSize: number,
): { rowGroups: RowGroup[]; indexes: PageIndexes[] } {
  const resolve = schemaPathResolver(schema);
  const paths = columnData.map(({ name }) => resolve([name]));
  const rowGroups: RowGroup[] = [];
  const indexes: PageIndexes[] = [];
  for (let start = 0; start < rowCount; start += rowGroupSize) {
    const size = Math.min(rowGroupSize, rowCount - start);
    const groupStart = sink.offset;
    const columns: ColumnChunk[] = [];
    columnData.forEach((source, index) => {
      const path = paths[index];
      const element = path[path.length - 1].element;
      const data = source.data;
      const codec = source.codec ?? "UNCOMPRESSED";
      const result =
        data instanceof Float64Array &&
        element.type === "DOUBLE" &&
        source.encoding === "PLAIN" &&
        codec === "UNCOMPRESSED" &&
        size * 8 < PAGE_SIZE &&
        LITTLE_ENDIAN
          ? writeDoubles(sink, element, data.subarray(start, start + size))
          : writeColumn({
              writer: sink,
              column: {
                columnName: source.name,
                element,
                schemaPath: path.map((node) => node.element),
                codec,
                compressors: { SNAPPY: snappyCompress },
                stats: true,
                pageSize: PAGE_SIZE,
                columnIndex: false,
                offsetIndex: true,
                encoding: source.encoding,
              },
              pageData: encodeNestedValues(path, data.slice(start, start + size)),
            });
      columns.push(result.chunk);
      indexes.push(result);
    });
    let totalByteSize = 0n;
    for (const { meta_data } of columns) totalByteSize += meta_data?.total_uncompressed_size ?? 0n;
    rowGroups.push({
      columns,
      total_byte_size: totalByteSize,
      num_rows: BigInt(size),
      total_compressed_size: BigInt(sink.offset - groupStart),
    });
  }
  return { rowGroups, indexes };
}

/** Definition levels of `n` present values (all 1), as writeRleBitPackedHybrid writes them. */
let ones = new Uint8Array(0);

/**
 * One DATA_PAGE_V2 of PLAIN doubles, none missing (a column OPTIONAL or REQUIRED), the column
 * chunk's footer entry with its statistics — what writeColumn writes for it.
 */
function writeDoubles(sink: ByteWriter, element: SchemaElement, values: Float64Array): PageIndexes {
  const n = values.length;
  const chunkStart = sink.offset;
  // Statistics: NaN would be a missing value here (the caller has none); ±0 as the spec says.
  let min = values[0];
  let max = values[0];
  for (let i = 1; i < n; i++) {
    const value = values[i];
    if (value < min) min = value;
    else if (value > max) max = value;
  }
  if (min === 0) min = -0;
  if (max === 0) max = 0;
  let levelBytes = 0;
  let levels: Uint8Array | undefined;
  if (element.repetition_type !== "REQUIRED") {
    if (ones.length < n) ones = new Uint8Array(Math.max(n, 2 * ones.length)).fill(1);
    // Levels go to a scratch writer first: the page header before them needs their length.
    const scratch = new ByteWriter(16);
    levelBytes = writeRleBitPackedHybrid(scratch, ones.subarray(0, n), 1);
    levels = scratch.getBytes();
  }
  const valueBytes = 8 * n;
  const dataPageOffset = BigInt(sink.offset);
  writePageHeader(sink, {
    type: "DATA_PAGE_V2",
    uncompressed_page_size: levelBytes + valueBytes,
    compressed_page_size: levelBytes + valueBytes,
    data_page_header_v2: {
      num_values: n,
      num_nulls: 0,
      num_rows: n,
      encoding: "PLAIN",
      definition_levels_byte_length: levelBytes,
      repetition_levels_byte_length: 0,
      is_compressed: true,
    },
  });
  const headerBytes = sink.offset - Number(dataPageOffset);
  if (levels) sink.appendBytes(levels);
  sink.appendBytes(new Uint8Array(values.buffer, values.byteOffset, valueBytes));
  return {
    chunk: {
      meta_data: {
        type: "DOUBLE",
        encodings: ["PLAIN"],
        path_in_schema: [element.name],
        codec: "UNCOMPRESSED",
        num_values: BigInt(n),
        total_compressed_size: BigInt(sink.offset - chunkStart),
        total_uncompressed_size: BigInt(headerBytes + levelBytes + valueBytes),
        data_page_offset: dataPageOffset,
        statistics: { min_value: min, max_value: max, null_count: 0n, nan_count: 0n },
        encoding_stats: [{ page_type: "DATA_PAGE_V2", encoding: "PLAIN", count: 1 }],
      },
      file_offset: BigInt(chunkStart),
    },
  } as PageIndexes;
}
