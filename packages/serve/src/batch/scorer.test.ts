// scoreCsvChunk's CSV output written into the room after the chunk in its own shared slot (the
// fields copied with copyWithin), against the same chunk encoded into a buffer of its own.
import { createPredictor } from "@mlops/core";
import { describe, expect, it } from "vitest";
import { byHand, linearArtifact } from "../testing/fixtures.js";
import {
  alignUp,
  type CsvChunkTask,
  type CsvOutputPlan,
  csvOutputCapacity,
  csvRowTail,
  type OutputPlan,
  scoreCsvChunk,
  warmUpCsv,
} from "./scorer.js";

const predictor = createPredictor(linearArtifact());
const header = ["id", "rooms", "area", "color", "note"];
// CRLF line ends, quoted fields holding the delimiter, a quote and a line break, an empty
// field, and a record the schema rejects (rooms "zero") between scored ones.
const records = [
  ['"h,0"', "1", "0.10", "red", "plain"],
  ["007", "2", "1e1", '"green"', '"say ""hi"", twice"'],
  ["h2", "03", "+5", "", '"two\r\nlines"'],
  ["h4", "zero", "1", "red", "rejected"],
  ["h3", "4", "2.50", "blue", "  padded  "],
];
const scored = [
  { rooms: 1, area: 0.1, color: "red" },
  { rooms: 2, area: 10, color: "green" },
  { rooms: 3, area: 5, color: null },
  undefined,
  { rooms: 4, area: 2.5, color: "blue" },
];
const text = `${records.map((fields) => fields.join(",")).join("\r\n")}\r\n`;

const plan: OutputPlan = { keep: header, predictionColumn: "prediction" };
const allKept: CsvOutputPlan = {
  header: "id,rooms,area,color,note,prediction\n",
  delimiterCode: 44,
  keptCount: header.length,
};

/** The chunk's bytes at the start of a SharedArrayBuffer with `room` bytes after them. */
function chunk(room: number): { bytes: Uint8Array; slot: SharedArrayBuffer } {
  const input = Buffer.from(text);
  const slot = new SharedArrayBuffer(alignUp(input.length) + room);
  const bytes = new Uint8Array(slot, 0, input.length);
  bytes.set(input);
  return { bytes, slot };
}

function task(bytes: Uint8Array, csv: CsvOutputPlan, taskPlan = plan): CsvChunkTask {
  return {
    kind: "csv",
    id: 0,
    bytes,
    line: 2,
    file: { path: "a.csv", header, delimiterCode: 44 },
    plan: taskPlan,
    csv,
  };
}

/** The room scoreCsvChunk needs to encode the chunk in its slot (4 rows scored). */
function roomFor(csv: CsvOutputPlan, taskPlan = plan): number {
  return csvOutputCapacity(
    Buffer.byteLength(csv.header ?? ""),
    csv.keptCount > 0 ? Buffer.byteLength(text) : 0,
    4,
    csvRowTail(taskPlan),
  );
}

describe("scoreCsvChunk: a CSV output in the chunk's own slot", () => {
  it("encodes after the chunk when the slot has room, the same bytes as in a buffer of its own", async () => {
    const expected = [
      allKept.header,
      ...records.flatMap((fields, row) => {
        const values = scored[row];
        return values === undefined ? [] : [`${[...fields, byHand(values)].join(",")}\n`];
      }),
    ].join("");
    const inSlot = chunk(roomFor(allKept));
    const result = await scoreCsvChunk(predictor, task(inSlot.bytes, allKept));
    expect(result.bytes?.buffer).toBe(inSlot.slot);
    expect(result.bytes?.byteOffset).toBe(alignUp(inSlot.bytes.byteLength));
    expect(Buffer.from(result.bytes!).toString()).toBe(expected);
    expect(result.invalid.map((row) => [row.row, row.location.line])).toEqual([[3, 6]]);
    // The input is left as it was: the output starts after it.
    expect(Buffer.from(inSlot.bytes).toString()).toBe(text);

    // One byte short: a buffer of its own (a new shared one), the very same bytes.
    const short = chunk(roomFor(allKept) - 1);
    const apart = await scoreCsvChunk(predictor, task(short.bytes, allKept));
    expect(apart.bytes?.buffer).not.toBe(short.slot);
    expect(apart.bytes?.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Buffer.from(apart.bytes!).toString()).toBe(expected);
  });

  it("only the prediction and the version: the room needed has no input bytes in it", async () => {
    const versioned: OutputPlan = {
      keep: [],
      predictionColumn: "p",
      versionColumn: { name: "v", version: 12 },
    };
    const csv: CsvOutputPlan = { header: "p,v\n", delimiterCode: 44, keptCount: 0, columns: [] };
    const inSlot = chunk(roomFor(csv, versioned));
    const result = await scoreCsvChunk(predictor, task(inSlot.bytes, csv, versioned));
    expect(result.bytes?.buffer).toBe(inSlot.slot);
    expect(Buffer.from(result.bytes!).toString()).toBe(
      `p,v\n${scored.flatMap((values) => (values ? [`${byHand(values)},12\n`] : [])).join("")}`,
    );
  });

  it("chosen columns in another order are copied from the slot too", async () => {
    const chosen: OutputPlan = { keep: ["note", "id"], predictionColumn: "prediction" };
    const csv: CsvOutputPlan = {
      header: "note,id,prediction\n",
      delimiterCode: 44,
      keptCount: 2,
      columns: [4, 0],
    };
    const inSlot = chunk(4 * roomFor(csv, chosen));
    const result = await scoreCsvChunk(predictor, task(inSlot.bytes, csv, chosen));
    expect(Buffer.from(result.bytes!).toString()).toBe(
      [
        csv.header,
        ...records.flatMap((fields, row) => {
          const values = scored[row];
          return values === undefined ? [] : [`${fields[4]},${fields[0]},${byHand(values)}\n`];
        }),
      ].join(""),
    );
    expect(Buffer.from(inSlot.bytes).toString()).toBe(text);
  });
});

describe("warmUpCsv: a thread's first chunk scored in part, once, before it is scored", () => {
  it("touches neither the chunk nor its slot, and the chunk scores the same after it", async () => {
    const room = roomFor(allKept);
    const before = await scoreCsvChunk(
      createPredictor(linearArtifact()),
      task(chunk(room).bytes, allKept),
    );
    const fresh = createPredictor(linearArtifact());
    const inSlot = chunk(room);
    new Uint8Array(inSlot.slot, alignUp(inSlot.bytes.length)).fill(0xee);
    await warmUpCsv(fresh, task(inSlot.bytes, allKept));
    expect(Buffer.from(inSlot.bytes).toString()).toBe(text);
    expect(new Uint8Array(inSlot.slot, alignUp(inSlot.bytes.length)).every((b) => b === 0xee)).toBe(
      true,
    );
    const after = await scoreCsvChunk(fresh, task(inSlot.bytes, allKept));
    expect(Buffer.from(after.bytes!).toString()).toBe(Buffer.from(before.bytes!).toString());
    expect(after.invalid).toEqual(before.invalid);
    expect(after.records).toBe(before.records);
  });

  it("takes odd chunks in its stride: no line break, other delimiters, no CSV output", async () => {
    const tabs = Buffer.from("h1\t1\t2\tred\tx");
    const bytes = new Uint8Array(new SharedArrayBuffer(tabs.length + 1), 0, tabs.length);
    bytes.set(tabs);
    await expect(
      warmUpCsv(predictor, {
        ...task(bytes, allKept),
        file: { path: "a.tsv", header, delimiterCode: 9 },
        csv: undefined,
        plan: { ...plan, encode: { format: "jsonl", first: true, path: "a.jsonl" } },
      }),
    ).resolves.toBeUndefined();
    expect(Buffer.from(bytes).toString()).toBe(tabs.toString());
  });
});
