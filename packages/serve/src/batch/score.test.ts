// scoreBatch on real files in temporary folders, against the houses model of the serve fixtures
// (a linear model whose predictions are computed by hand in `byHand`).
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  categoryColumn,
  createArtifact,
  Frame,
  type FrameFormat,
  field,
  formats,
  MlopsError,
  numericColumn,
  readFrame,
  schema,
  writeFrame,
} from "@mlops/core";
import { openParquetChunker } from "@mlops/core/internal";
import { ensureBuilt } from "@mlops/test-support";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { byHand, linearArtifact, tempRegistry } from "../testing/fixtures.js";
import { manifestPath, readManifest } from "./manifest.js";
import { type BatchProgress, scoreBatch } from "./score.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

let temp: Awaited<ReturnType<typeof tempRegistry>>;
let dir = "";

beforeAll(() => {
  // The worker threads run the built package.
  ensureBuilt(
    { packageDir: join(packageDir, "..", "core") },
    { packageDir, outputs: ["index.js", "batch-worker.js"] },
  );
}, 180_000);

beforeEach(async () => {
  temp = await tempRegistry();
  dir = temp.dir;
});

afterEach(async () => {
  await temp.cleanup();
});

/** `n` house rows: rooms 1..5, area 10·i, colors cycling with a missing one; an id column. */
function housesCsv(n: number, extra: (i: number) => string | undefined = () => undefined): string {
  const colors = ["red", "green", "blue", ""];
  let text = "id,rooms,area,color\n";
  for (let i = 0; i < n; i++) {
    text += extra(i) ?? `h${i},${(i % 5) + 1},${10 * i},${colors[i % 4]}\n`;
  }
  return text;
}

function expected(i: number): number {
  const colors = ["red", "green", "blue", null];
  return byHand({ rooms: (i % 5) + 1, area: 10 * i, color: colors[i % 4] });
}

async function jsonLines(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, "utf8");
  return text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
}

describe("scoreBatch", () => {
  it("scores a CSV file on worker threads, rows in order, ids and inputs kept", async () => {
    await mkdir(join(dir, "data"));
    await writeFile(join(dir, "data", "a.csv"), housesCsv(1000));
    const summary = await scoreBatch({
      model: "houses@production",
      registry: temp.registry,
      input: "data/a.csv",
      output: "out",
      cwd: dir,
      batchSize: 64,
      workers: 2,
      versionColumn: "model_version",
    });
    expect(summary.ok).toBe(true);
    expect(summary.workers).toBe(2);
    expect(summary.model).toMatchObject({
      name: "houses",
      version: 1,
      reference: "houses@production",
    });
    expect(summary.totals).toMatchObject({
      files: 1,
      rowsIn: 1000,
      rowsScored: 1000,
      rowsRejected: 0,
    });
    const out = await readFrame(join(dir, "out", "a.csv"));
    expect(out.names).toEqual(["id", "rooms", "area", "color", "prediction", "model_version"]);
    expect(out.rowCount).toBe(1000);
    const predictions = out.numeric("prediction");
    for (let i = 0; i < 1000; i++) {
      expect(out.get(i, "id")).toBe(`h${i}`);
      expect(predictions[i]).toBe(expected(i));
    }
    expect([...out.numeric("model_version")].every((v) => v === 1)).toBe(true);
    // Nothing but the output and the manifest is left in the folder.
    expect((await readdir(join(dir, "out"))).sort()).toEqual(["_mlops_batch.json", "a.csv"]);
  });

  it("rejects rows that violate the schema into NAME.rejects.jsonl, with file, line and issues", async () => {
    await mkdir(join(dir, "data"));
    const bad = new Map([
      [3, "h3,zero,30,blue\n"],
      [7, "h7,4,-70,red\n"],
      [8, "h8,99,80,purple\n"],
    ]);
    await writeFile(
      join(dir, "data", "a.csv"),
      housesCsv(20, (i) => bad.get(i)),
    );
    const summary = await scoreBatch({
      model: "houses@production",
      registry: temp.registry,
      input: "data",
      output: "out",
      cwd: dir,
      batchSize: 4,
      workers: 0,
      maxRejectRate: 0.2,
    });
    expect(summary.totals).toMatchObject({ rowsIn: 20, rowsScored: 17, rowsRejected: 3 });
    expect(summary.totals.rejectRate).toBeCloseTo(0.15);
    expect(summary.ok).toBe(true);
    const [file] = summary.files;
    expect(file.rejects).toBe(join(dir, "out", "a.rejects.jsonl"));
    const rejects = await jsonLines(file.rejects!);
    expect(rejects.map((line) => [line.line, line.row])).toEqual([
      [5, 3],
      [9, 7],
      [10, 8],
    ]);
    expect(rejects[0]).toMatchObject({
      file: join(dir, "data", "a.csv"),
      values: { id: "h3", rooms: "zero", area: 30, color: "blue" },
      issues: [{ code: "invalid_type", path: [3, "rooms"], column: "rooms" }],
    });
    // Row 8 has two issues: both are listed.
    expect((rejects[2].issues as { code: string }[]).map((issue) => issue.code).sort()).toEqual([
      "invalid_category",
      "too_big",
    ]);
    const out = await readFrame(join(dir, "out", "a.csv"));
    expect(out.rowCount).toBe(17);
    const ids = [...Array(out.rowCount).keys()].map((row) => out.get(row, "id"));
    expect(ids).toEqual([...Array(20).keys()].filter((i) => !bad.has(i)).map((i) => `h${i}`));
  });

  it("rejects unreadable rows too (ragged CSV, an unclosed quote, a line that is not JSON), with their line", async () => {
    // A model whose schema lets `area` be missing although the linear model needs it: rows
    // without it pass the schema and are rejected by the model, and must name their line too.
    const loose = schema(
      {
        rooms: field.integer({ min: 1, max: 20 }),
        area: field.number({ min: 0 }).nullable(),
        color: field.category(["red", "green", "blue"]).nullable(),
        price: field.number({ min: 0, max: 10_000 }),
      },
      { target: "price" },
    );
    const base = linearArtifact(50);
    await temp.registry.registerModel(
      "loose",
      createArtifact({
        kind: "linear",
        schema: loose,
        preprocessing: base.manifest.preprocessing,
        model: base.manifest.model,
        arrays: { coefficients: Float64Array.of(100, 2, 10, 20, 30) },
      }),
      { aliases: ["production"] },
    );
    await mkdir(join(dir, "data"));
    const csv = [
      "id,rooms,area,color",
      "h0,1,0,red",
      "h1,2,10,green,extra",
      "h2,3",
      "h3,zero,30,blue",
      "h4,5,,red",
      'h5,1,50,"open',
      "h6,2,60,blue",
    ];
    await writeFile(join(dir, "data", "a.csv"), `${csv.join("\n")}\n`);
    const jsonl = [
      '{"id":"j0","rooms":1,"area":0,"color":"red"}',
      "not json",
      "",
      '{"id":"j1","rooms":2,"area":null,"color":null}',
      '{"id":"j2","rooms":3,"area":20,"color":"blue"}',
    ];
    await writeFile(join(dir, "data", "b.jsonl"), `${jsonl.join("\n")}\n`);
    for (const workers of [0, 2]) {
      const output = `out${workers}`;
      const summary = await scoreBatch({
        model: "loose@production",
        registry: temp.registry,
        input: "data",
        output,
        cwd: dir,
        batchSize: 2,
        workers,
        maxRejectRate: 1,
      });
      expect(summary.ok).toBe(true);
      expect(summary.totals.failedFiles).toBe(0);
      const [a, b] = summary.files;
      expect(a).toMatchObject({ status: "scored", rowsIn: 7, rowsScored: 2, rowsRejected: 5 });
      expect(b).toMatchObject({ status: "scored", rowsIn: 4, rowsScored: 2, rowsRejected: 2 });
      for (const file of summary.files)
        expect(file.rowsIn).toBe(file.rowsScored + file.rowsRejected);
      const aRejects = (await jsonLines(a.rejects!)).sort(
        (x, y) => Number(x.line) - Number(y.line),
      );
      expect(aRejects.map((line) => [line.line, line.row, line.text ?? null])).toEqual([
        [3, 1, "h1,2,10,green,extra"],
        [4, 2, "h2,3"],
        [5, 3, null],
        [6, 4, null],
        [7, 5, 'h5,1,50,"open'],
      ]);
      expect(aRejects[0]).toMatchObject({
        file: join(dir, "data", "a.csv"),
        issues: [{ code: "malformed_row", message: "expected 4 fields like the header, found 5" }],
      });
      expect(aRejects[0].values).toBeUndefined();
      expect(aRejects[2]).toMatchObject({ values: { id: "h3", rooms: "zero" } });
      expect(aRejects[3]).toMatchObject({
        values: { id: "h4", rooms: 5, color: "red" },
        issues: [{ code: "predictor_input", path: [4] }],
      });
      expect((aRejects[4].issues as { message: string }[])[0].message).toMatch(
        /unterminated quoted field in column "color"/,
      );
      const bRejects = (await jsonLines(b.rejects!)).sort(
        (x, y) => Number(x.line) - Number(y.line),
      );
      expect(bRejects.map((line) => [line.line, line.row, line.text ?? null])).toEqual([
        [2, 1, "not json"],
        [4, 2, null],
      ]);
      expect((bRejects[0].issues as { code: string }[])[0].code).toBe("malformed_row");
      expect((bRejects[1].issues as { code: string }[])[0].code).toBe("predictor_input");
      const outA = await readFrame(join(dir, output, "a.csv"));
      expect([0, 1].map((row) => outA.get(row, "id"))).toEqual(["h0", "h6"]);
      expect([...outA.numeric("prediction")]).toEqual([
        byHand({ rooms: 1, area: 0, color: "red" }),
        byHand({ rooms: 2, area: 60, color: "blue" }),
      ]);
      const outB = await readFrame(join(dir, output, "b.jsonl"));
      expect([0, 1].map((row) => outB.get(row, "id"))).toEqual(["j0", "j2"]);
    }
  });

  it("is not ok when the reject share passes maxRejectRate (default 0)", async () => {
    await writeFile(
      join(dir, "a.csv"),
      housesCsv(10, (i) => (i === 0 ? "h0,x,1,red\n" : undefined)),
    );
    const summary = await scoreBatch({
      model: "houses@production",
      registry: temp.registry,
      input: "a.csv",
      output: "out",
      cwd: dir,
      workers: 0,
    });
    expect(summary.totals.rowsRejected).toBe(1);
    expect(summary.ok).toBe(false);
  });

  it("mixes formats: a folder of CSV, JSON Lines, Parquet and Arrow, each written as Parquet", async () => {
    await mkdir(join(dir, "data", "sub"), { recursive: true });
    const frame = new Frame({
      id: categoryColumn(["a", "b", "c"]),
      rooms: numericColumn([1, 2, 3], "integer"),
      area: numericColumn([10, 20, 30]),
      color: categoryColumn(["red", null, "blue"]),
    });
    await writeFrame(join(dir, "data", "one.csv"), frame);
    await writeFrame(join(dir, "data", "two.jsonl"), frame);
    await writeFrame(join(dir, "data", "sub", "three.parquet"), frame);
    await writeFrame(join(dir, "data", "sub", "four.arrow"), frame);
    await writeFile(join(dir, "data", "notes.md"), "not data\n");
    const summary = await scoreBatch({
      model: "houses@production",
      registry: temp.registry,
      input: ["data", "data/sub/*.{parquet,arrow}"],
      output: "out",
      outputFormat: "parquet",
      keepColumns: false,
      idColumns: ["id"],
      cwd: dir,
      workers: 0,
    });
    expect(summary.files.map((file) => file.output.slice(dir.length + 1))).toEqual([
      "out/one.parquet",
      "out/two.parquet",
      "out/four.parquet",
      "out/three.parquet",
    ]);
    for (const file of summary.files) {
      const out = await readFrame(file.output);
      expect(out.names).toEqual(["id", "prediction"]);
      expect([...out.numeric("prediction")]).toEqual([
        byHand({ rooms: 1, area: 10, color: "red" }),
        byHand({ rooms: 2, area: 20, color: null }),
        byHand({ rooms: 3, area: 30, color: "blue" }),
      ]);
    }
  });

  it("scores Parquet and Arrow files whose row groups are cut into batches, on workers", async () => {
    // 70,000 rows: two row groups (record batches) of up to 65,536, cut into batches of 4,096
    // that are views into them, posted to two worker threads.
    const n = 70_000;
    const rooms = new Float64Array(n);
    const area = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      rooms[i] = (i % 5) + 1;
      area[i] = i % 1000;
    }
    const frame = new Frame({
      rooms: { kind: "integer", values: rooms },
      area: { kind: "number", values: area },
      color: categoryColumn(Array.from({ length: n }, (_, i) => ["red", "green", null][i % 3])),
    });
    await mkdir(join(dir, "data"));
    await writeFrame(join(dir, "data", "big.parquet"), frame);
    await writeFrame(join(dir, "data", "big.arrow"), frame);
    const summary = await scoreBatch({
      model: "houses@production",
      registry: temp.registry,
      input: "data",
      output: "out",
      cwd: dir,
      batchSize: 4096,
      workers: 2,
    });
    expect(summary.ok).toBe(true);
    expect(summary.totals.rowsScored).toBe(2 * n);
    for (const file of summary.files) {
      const out = await readFrame(file.output);
      const predictions = out.numeric("prediction");
      for (const i of [0, 1, 4095, 4096, 65_535, 65_536, n - 1]) {
        const color = ["red", "green", null][i % 3];
        expect(predictions[i]).toBe(byHand({ rooms: (i % 5) + 1, area: i % 1000, color }));
      }
    }
  });

  it("pins the version at start: an alias moved mid-run does not mix versions", async () => {
    await mkdir(join(dir, "data"));
    for (const name of ["a", "b", "c"])
      await writeFile(join(dir, "data", `${name}.csv`), housesCsv(5));
    const events: BatchProgress[] = [];
    const summary = await scoreBatch({
      model: "houses@production",
      registry: temp.registry,
      input: "data",
      output: "out",
      cwd: dir,
      workers: 0,
      versionColumn: "v",
      onProgress: (progress) => {
        events.push(progress);
        // After the first file, production moves to version 2 (intercept 60 instead of 50).
        if (progress.event === "file" && progress.fileIndex === 0) {
          void temp.registry.setAlias("houses", "production", 2);
        }
      },
    });
    expect(summary.model.version).toBe(1);
    for (const file of summary.files) {
      const out = await readFrame(file.output);
      expect([...out.numeric("v")]).toEqual([1, 1, 1, 1, 1]);
      expect(out.numeric("prediction")[0]).toBe(expected(0));
    }
    expect(events.filter((event) => event.event === "file")).toHaveLength(3);
    const manifest = await readManifest(join(dir, "out"));
    expect(manifest?.model).toMatchObject({
      name: "houses",
      version: 1,
      reference: "houses@production",
    });
    expect(manifest?.status).toBe("completed");
  });

  it("names outputs with a timestamp the way seed 001 does", async () => {
    await writeFile(join(dir, "a.csv"), housesCsv(3));
    const summary = await scoreBatch({
      model: "houses/2",
      registry: temp.registry,
      input: "a.csv",
      output: "out",
      outputName: "{timestamp}_{name}_v{version}{ext}",
      predictionColumn: "predictions",
      cwd: dir,
      workers: 0,
    });
    expect(basenameOf(summary.files[0].output)).toMatch(/^\d{14}_a_v2\.csv$/);
    const out = await readFrame(summary.files[0].output);
    expect(out.numeric("predictions")[0]).toBe(expected(0) + 10);
  });

  describe("CSV to CSV: kept fields copied byte for byte", () => {
    // Quoted fields (a delimiter, doubled quotes, a line break inside), numbers written in ways
    // String(n) would not (0.10, 1e1, +5, 03), an id with a leading zero, a missing token, CRLF
    // line ends, spaces around a field, and one row the schema refuses.
    const records = [
      ['"h,0"', "1", "0.10", "red", "plain"],
      ["007", "2", "1e1", '"green"', '"say ""hi"", twice"'],
      ["h2", "03", "+5", "", '"two\nlines"'],
      ["h3", "4", "2.50", "blue", "  padded  "],
      ["h4", "zero", "1", "red", "rejected"],
      ["h5", "5", "0.1", "NA", '"a,b"'],
    ];
    const values = [
      { rooms: 1, area: 0.1, color: "red" },
      { rooms: 2, area: 10, color: "green" },
      { rooms: 3, area: 5, color: null },
      { rooms: 4, area: 2.5, color: "blue" },
      undefined,
      { rooms: 5, area: 0.1, color: null },
    ];
    const input = `id,rooms,area,color,note\r\n${records.map((fields) => fields.join(",")).join("\r\n")}\r\n`;

    async function score(options: { workers: number; batchSize: number; output: string }) {
      const summary = await scoreBatch({
        model: "houses@production",
        registry: temp.registry,
        input: "a.csv",
        cwd: dir,
        maxRejectRate: 0.5,
        ...options,
      });
      expect(summary.files[0]).toMatchObject({ rowsIn: 6, rowsScored: 5, rowsRejected: 1 });
      return readFile(join(dir, options.output, "a.csv"), "utf8");
    }

    it("copies every kept field as it is in the input and spells the prediction as String(n)", async () => {
      await writeFile(join(dir, "a.csv"), input);
      const expected = [
        "id,rooms,area,color,note,prediction",
        ...records.flatMap((fields, row) => {
          const read = values[row];
          return read === undefined ? [] : [[...fields, String(byHand(read))].join(",")];
        }),
      ].join("\n");
      const outputs = new Set<string>();
      for (const workers of [0, 1, 3]) {
        for (const batchSize of [1, 2, 1000]) {
          outputs.add(await score({ workers, batchSize, output: `out-${workers}-${batchSize}` }));
        }
      }
      // Byte for byte the same whatever the threads and the batch size.
      expect([...outputs]).toEqual([`${expected}\n`]);
      const rejects = await jsonLines(join(dir, "out-3-1", "a.rejects.jsonl"));
      expect(rejects.map((line) => [line.line, line.row])).toEqual([[7, 4]]);
    });

    it("copies chosen columns in their order, and quotes fields again for another delimiter", async () => {
      await writeFile(join(dir, "a.csv"), input);
      const chosen = await scoreBatch({
        model: "houses@production",
        registry: temp.registry,
        input: "a.csv",
        output: "chosen",
        cwd: dir,
        keepColumns: ["note", "area"],
        idColumns: ["id"],
        versionColumn: "v",
        maxRejectRate: 0.5,
        batchSize: 2,
        workers: 2,
      });
      expect(chosen.ok).toBe(true);
      const kept = records.filter((_, row) => values[row] !== undefined);
      const scored = values.filter((row) => row !== undefined);
      expect(await readFile(join(dir, "chosen", "a.csv"), "utf8")).toBe(
        [
          "id,note,area,prediction,v",
          ...kept.map((fields, row) =>
            [fields[0], fields[4], fields[2], String(byHand(scored[row]!)), "1"].join(","),
          ),
          "",
        ].join("\n"),
      );
      // Tab-separated in, comma-separated out: fields holding a comma or a quote get quotes.
      await writeFile(
        join(dir, "b.tsv"),
        'id\trooms\tarea\tcolor\tnote\nh,0\t1\t2\tred\tsay "hi"\n"h\t1"\t2\t3\tblue\t"x""y"z,w\n',
      );
      const tabs = await scoreBatch({
        model: "houses@production",
        registry: temp.registry,
        input: "b.tsv",
        output: "tabs",
        outputName: "{name}.csv",
        outputDelimiter: ",",
        cwd: dir,
        workers: 0,
      });
      expect(tabs.ok).toBe(true);
      const text = await readFile(join(dir, "tabs", "b.csv"), "utf8");
      expect(text.split("\n")[1]).toBe(
        `"h,0",1,2,red,"say ""hi""",${byHand({ rooms: 1, area: 2, color: "red" })}`,
      );
      const back = await readFrame(join(dir, "tabs", "b.csv"));
      expect([0, 1].map((row) => [back.get(row, "id"), back.get(row, "note")])).toEqual([
        ["h,0", 'say "hi"'],
        ["h\t1", 'x"yz,w'],
      ]);
    });

    it("writes the same bytes with 1 and with 3 workers, rejects included", async () => {
      await writeFile(
        join(dir, "a.csv"),
        housesCsv(5000, (i) => (i % 97 === 5 ? `h${i},0,1,red\n` : undefined)),
      );
      const files: string[] = [];
      for (const workers of [1, 3]) {
        const summary = await scoreBatch({
          model: "houses@production",
          registry: temp.registry,
          input: "a.csv",
          output: `w${workers}`,
          cwd: dir,
          batchSize: 64,
          maxRejectRate: 0.1,
          workers,
        });
        expect(summary.files[0]).toMatchObject({ rowsIn: 5000, rowsRejected: 52 });
        files.push(
          (await readFile(join(dir, `w${workers}`, "a.csv"), "utf8")) +
            (await readFile(join(dir, `w${workers}`, "a.rejects.jsonl"), "utf8")),
        );
      }
      expect(files[1]).toBe(files[0]);
      const out = await readFrame(join(dir, "w3", "a.csv"));
      expect(out.rowCount).toBe(4948);
      const rejects = await jsonLines(join(dir, "w3", "a.rejects.jsonl"));
      expect(rejects.map((line) => line.row)).toEqual(
        [...Array(5000).keys()].filter((i) => i % 97 === 5),
      );
      expect(rejects.every((line) => line.line === Number(line.row) + 2)).toBe(true);
    });
  });

  describe("CSV chunks in buffers shared with the threads", () => {
    it("writes the same bytes with 0, 1 and 3 workers when record sizes change along the file", async () => {
      // Short records, then 600 with notes of up to 3 KB (the shared buffers must grow), then
      // short ones again; notes with quotes and ";" are quoted again for the ";" output.
      let text = "id,rooms,area,color,note\n";
      for (let i = 0; i < 3000; i++) {
        const long = i >= 1000 && i < 1600;
        const note = long ? `"${'x;""y""'.repeat(1 + (i % 600))}"` : i % 7 === 0 ? "a;b" : "";
        text += `h${i},${(i % 5) + 1},${i},red,${note}\n`;
      }
      await writeFile(join(dir, "a.csv"), text);
      const outputs: string[] = [];
      for (const workers of [0, 1, 3]) {
        const summary = await scoreBatch({
          model: "houses@production",
          registry: temp.registry,
          input: "a.csv",
          output: `w${workers}`,
          outputName: "{name}.txt",
          outputFormat: "csv",
          outputDelimiter: ";",
          keepColumns: ["note", "rooms"],
          idColumns: ["id"],
          cwd: dir,
          batchSize: 50,
          workers,
        });
        expect(summary.files[0], summary.files[0].error?.message).toMatchObject({
          rowsIn: 3000,
          rowsScored: 3000,
        });
        outputs.push(await readFile(join(dir, `w${workers}`, "a.txt"), "utf8"));
      }
      expect(outputs[1]).toBe(outputs[0]);
      expect(outputs[2]).toBe(outputs[0]);
      const lines = outputs[0].split("\n");
      expect(lines[0]).toBe("id;note;rooms;prediction");
      expect(lines[1 + 7]).toBe(`h7;"a;b";3;${byHand({ rooms: 3, area: 7, color: "red" })}`);
      const i = 1599;
      expect(lines[1 + i]).toBe(
        `h${i};"${'x;""y""'.repeat(1 + (i % 600))}";5;${byHand({ rooms: 5, area: i, color: "red" })}`,
      );
    });
  });

  describe("CSV chunks encoded next to their bytes, in their own slots", () => {
    it("every column kept: the same bytes with 0, 1 and 3 workers as record sizes change", async () => {
      // Records of ~30 bytes, then 300 of up to 2 KB (quoted, with CRLF and "" inside), then
      // 3000 of 9 bytes (many more rows per byte than the slots were sized for), CRLF line ends:
      // slots fill, grow, are reused chunk after chunk, and fall back to a buffer of their own.
      const rows: string[] = [];
      const want: string[] = [];
      for (let i = 0; i < 4300; i++) {
        const rooms = (i % 5) + 1;
        const note =
          i < 1000 ? `n${i}` : i < 1300 ? `"${'a,""b""\r\n'.repeat(1 + ((i * 7) % 200))}"` : "";
        const id = i < 1300 ? `h${i}` : `${i % 10}`;
        const record = `${id},${rooms},${i % 100},red,${note}`;
        rows.push(record);
        want.push(`${record},${byHand({ rooms, area: i % 100, color: "red" })}`);
      }
      await writeFile(join(dir, "a.csv"), `id,rooms,area,color,note\r\n${rows.join("\r\n")}\r\n`);
      const expectedText = `id,rooms,area,color,note,prediction\n${want.join("\n")}\n`;
      for (const workers of [0, 1, 3]) {
        const summary = await scoreBatch({
          model: "houses@production",
          registry: temp.registry,
          input: "a.csv",
          output: `w${workers}`,
          cwd: dir,
          batchSize: 50,
          workers,
        });
        expect(summary.files[0], summary.files[0].error?.message).toMatchObject({
          rowsIn: 4300,
          rowsScored: 4300,
        });
        const text = await readFile(join(dir, `w${workers}`, "a.csv"), "utf8");
        // Compared line by line first: a wrong line is named, not a 1 MB string.
        const lines = text.split("\n");
        const expectedLines = expectedText.split("\n");
        expect(lines.length).toBe(expectedLines.length);
        for (let line = 0; line < lines.length; line++) {
          if (lines[line] !== expectedLines[line]) {
            expect(`${workers} workers, line ${line + 1}: ${lines[line]}`).toBe(
              `${workers} workers, line ${line + 1}: ${expectedLines[line]}`,
            );
          }
        }
      }
    });
  });

  describe("Parquet input: row groups decoded, scored and encoded on the threads", () => {
    /** Houses rows `from`…: a few break the schema (rooms 0, area missing, a purple house). */
    function housesFrame(n: number, from: number): Frame {
      const colors = ["red", "green", "blue", null];
      const rows = Array.from({ length: n }, (_, k) => from + k);
      return new Frame([
        ["id", categoryColumn(rows.map((i) => `h${i}`))],
        [
          "rooms",
          numericColumn(
            rows.map((i) => (i % 41 === 40 ? 0 : (i % 5) + 1)),
            "integer",
          ),
        ],
        ["area", numericColumn(rows.map((i) => (i % 43 === 42 ? Number.NaN : 10 * i)))],
        ["color", categoryColumn(rows.map((i) => (i % 47 === 46 ? "purple" : colors[i % 4])))],
        ["note", categoryColumn(rows.map((i) => (i % 3 === 0 ? null : `n${i % 3}, "q"`)))],
      ]);
    }
    const bad = (i: number) => i % 41 === 40 || i % 43 === 42 || i % 47 === 46;
    const SIZES = [7, 50, 1, 100, 3, 3, 3, 142, 91];

    /** A Parquet file of row groups of SIZES rows (the writer makes one per write). */
    async function writeGroups(path: string): Promise<number> {
      await mkdir(dirname(path), { recursive: true });
      const writer = await formats.parquet.openWriter(path);
      let from = 0;
      for (const size of SIZES) {
        await writer.write(housesFrame(size, from));
        from += size;
      }
      await writer.close();
      return from;
    }

    const run = (workers: number, output: string, extra: object = {}) =>
      scoreBatch({
        model: "houses@production",
        registry: temp.registry,
        input: "data",
        output,
        cwd: dir,
        batchSize: 20,
        workers,
        idColumns: ["id"],
        versionColumn: "model_version",
        maxRejectRate: 1,
        ...extra,
      });

    it("writes the same Parquet bytes with 0, 1 and 2 workers, rejects with the file's rows", async () => {
      const n = await writeGroups(join(dir, "data", "houses.parquet"));
      const summaries = [await run(0, "out0"), await run(1, "out1"), await run(2, "out2")];
      const outputs = await Promise.all(
        ["out0", "out1", "out2"].map((out) => readFile(join(dir, out, "houses.parquet"))),
      );
      expect(outputs[1].equals(outputs[0])).toBe(true);
      expect(outputs[2].equals(outputs[0])).toBe(true);
      const rejectTexts = await Promise.all(
        ["out0", "out1", "out2"].map((out) =>
          readFile(join(dir, out, "houses.rejects.jsonl"), "utf8"),
        ),
      );
      expect(rejectTexts[1]).toBe(rejectTexts[0].replaceAll("out0", "out1"));
      expect(rejectTexts[2]).toBe(rejectTexts[0].replaceAll("out0", "out2"));

      const badRows = [...Array(n).keys()].filter(bad);
      expect(badRows.length).toBeGreaterThan(15);
      for (const summary of summaries) {
        expect(summary.totals).toMatchObject({
          rowsIn: n,
          rowsScored: n - badRows.length,
          rowsRejected: badRows.length,
        });
      }
      const rejects = await jsonLines(join(dir, "out2", "houses.rejects.jsonl"));
      expect(rejects.map((line) => [line.row, line.line])).toEqual(badRows.map((i) => [i, i + 1]));
      expect(rejects.find((line) => line.row === 40)).toMatchObject({
        file: join(dir, "data", "houses.parquet"),
        values: { id: "h40", rooms: 0, area: 400, color: "red" },
        issues: [{ code: "too_small", path: [40, "rooms"] }],
      });

      const out = await readFrame(join(dir, "out2", "houses.parquet"));
      expect(out.names).toEqual([
        "id",
        "rooms",
        "area",
        "color",
        "note",
        "prediction",
        "model_version",
      ]);
      const good = [...Array(n).keys()].filter((i) => !bad(i));
      expect(out.rowCount).toBe(good.length);
      const colors = ["red", "green", "blue", null];
      good.forEach((i, row) => {
        expect(out.get(row, "id")).toBe(`h${i}`);
        expect(out.get(row, "note")).toBe(i % 3 === 0 ? null : `n${i % 3}, "q"`);
        expect(out.get(row, "color")).toBe(colors[i % 4]);
        expect(out.column("rooms").kind).toBe("integer");
        expect(out.numeric("prediction")[row]).toBe(
          byHand({ rooms: (i % 5) + 1, area: 10 * i, color: colors[i % 4] }),
        );
        expect(out.numeric("model_version")[row]).toBe(1);
      });
      // One output row group per chunk of input row groups (about batchSize rows each).
      const chunker = await openParquetChunker(join(dir, "out2", "houses.parquet"), { rows: 1 });
      const groups: number[] = [];
      for (let chunk = await chunker.next(); chunk; chunk = await chunker.next()) {
        groups.push(chunk.rowCount);
      }
      await chunker.close();
      // Input chunks of 57, 101, 151 and 91 rows, less their rejected rows.
      expect(groups).toEqual([54, 95, 140, 85]);
      expect(groups.reduce((sum, rows) => sum + rows, 0)).toBe(good.length);
    });

    it("writes CSV and JSON Lines from Parquet chunks, rows in order", async () => {
      const n = await writeGroups(join(dir, "data", "houses.parquet"));
      for (const format of ["csv", "jsonl"] as const) {
        const threads = await run(2, `threads-${format}`, { outputFormat: format });
        expect(threads.totals.rowsIn).toBe(n);
        const out = await readFrame(join(dir, `threads-${format}`, `houses.${format}`));
        const good = [...Array(n).keys()].filter((i) => !bad(i));
        expect(out.rowCount).toBe(good.length);
        expect([0, 39, 41, good.length - 1].map((row) => out.get(row, "id"))).toEqual(
          [0, 39, 41, good.length - 1].map((row) => `h${good[row]}`),
        );
      }
    });

    it("fails a Parquet file whose footer is corrupt with a clear error, and scores the rest", async () => {
      await writeGroups(join(dir, "data", "a_good.parquet"));
      await writeGroups(join(dir, "data", "b_corrupt.parquet"));
      const path = join(dir, "data", "b_corrupt.parquet");
      const bytes = new Uint8Array(await readFile(path));
      const footerLength = new DataView(bytes.buffer).getUint32(bytes.length - 8, true);
      bytes.fill(0xff, bytes.length - 8 - footerLength, bytes.length - 8);
      await writeFile(path, bytes);
      const summary = await run(2, "out");
      expect(summary.ok).toBe(false);
      const [good, corrupt] = summary.files;
      expect(good).toMatchObject({ status: "scored" });
      expect(corrupt).toMatchObject({ status: "failed", error: { code: "parquet_invalid" } });
      expect(corrupt.error?.message).toContain(`${path}: truncated or not a Parquet file`);
      expect((await readdir(join(dir, "out"))).sort()).toEqual([
        "_mlops_batch.json",
        "a_good.parquet",
        "a_good.rejects.jsonl",
      ]);
    });
  });

  describe("bad input: clear outcomes", () => {
    it("a model that does not exist", async () => {
      await writeFile(join(dir, "a.csv"), housesCsv(3));
      const error = await captured(() =>
        scoreBatch({
          model: "nope@production",
          registry: temp.registry,
          input: "a.csv",
          output: "out",
          cwd: dir,
        }),
      );
      expect(MlopsError.isInstance(error) && error.code).toBe("registry_not_found");
      expect(String((error as Error).message)).toMatch(/nope/);
    });

    it("an input folder with no matching files, and a glob that matches nothing", async () => {
      await mkdir(join(dir, "empty"));
      await writeFile(join(dir, "empty", "readme.md"), "hi");
      for (const input of ["empty", "data/*.csv"]) {
        const error = await captured(() =>
          scoreBatch({
            model: "houses@production",
            registry: temp.registry,
            input,
            output: "out",
            cwd: dir,
          }),
        );
        expect(MlopsError.isInstance(error) && error.code).toBe("batch_no_input");
        expect((error as Error).message).toContain(input);
      }
    });

    it("an output folder that is not writable", async () => {
      await writeFile(join(dir, "a.csv"), housesCsv(3));
      // A file where the folder should be: no user (root included) can create files inside it.
      await writeFile(join(dir, "out"), "a file, not a folder");
      const error = await captured(() =>
        scoreBatch({
          model: "houses@production",
          registry: temp.registry,
          input: "a.csv",
          output: "out/x",
          cwd: dir,
        }),
      );
      expect(MlopsError.isInstance(error) && error.code).toBe("file_write");
      expect((error as Error).message).toMatch(/output folder .*out\/x is not writable/);
    });

    it("an empty file, a file that is not its extension's format, a header missing a feature", async () => {
      await mkdir(join(dir, "data"));
      await writeFile(join(dir, "data", "a_empty.csv"), "");
      await writeFile(join(dir, "data", "b_fake.parquet"), "id,rooms\n1,2\n");
      await writeFile(join(dir, "data", "c_noarea.csv"), "id,rooms,color\nh0,1,red\n");
      await writeFile(join(dir, "data", "d_good.csv"), housesCsv(4));
      const summary = await scoreBatch({
        model: "houses@production",
        registry: temp.registry,
        input: "data",
        output: "out",
        cwd: dir,
        workers: 0,
      });
      expect(summary.ok).toBe(false);
      expect(summary.totals.failedFiles).toBe(3);
      const byName = Object.fromEntries(
        summary.files.map((file) => [basenameOf(file.input), file]),
      );
      expect(byName["a_empty.csv"].error).toMatchObject({ code: "csv_empty" });
      expect(byName["b_fake.parquet"].error).toMatchObject({ code: "parquet_invalid" });
      expect(byName["b_fake.parquet"].error?.message).toMatch(/not a Parquet file/);
      expect(byName["c_noarea.csv"].error).toMatchObject({ code: "schema_invalid" });
      expect(byName["c_noarea.csv"].error?.message).toMatch(/missing column "area"/);
      expect(byName["d_good.csv"]).toMatchObject({ status: "scored", rowsScored: 4 });
      // Failed files leave no output, not even an empty one.
      expect((await readdir(join(dir, "out"))).sort()).toEqual(["_mlops_batch.json", "d_good.csv"]);
      const manifest = await readManifest(join(dir, "out"));
      expect(manifest?.status).toBe("failed");
    });

    it("a rename that fails leaves no output under the final name and no temporary file", async () => {
      await writeFile(join(dir, "a.csv"), housesCsv(10));
      // A non-empty folder where the output should go: rename(2) onto it fails for real.
      await mkdir(join(dir, "out", "a.csv"), { recursive: true });
      await writeFile(join(dir, "out", "a.csv", "keep"), "x");
      const summary = await scoreBatch({
        model: "houses@production",
        registry: temp.registry,
        input: "a.csv",
        output: "out",
        cwd: dir,
        workers: 0,
      });
      expect(summary.files[0]).toMatchObject({ status: "failed", error: { code: "file_write" } });
      expect((await readdir(join(dir, "out"))).sort()).toEqual(["_mlops_batch.json", "a.csv"]);
      expect(await readdir(join(dir, "out", "a.csv"))).toEqual(["keep"]);
    });

    it("a full disk stops the run, keeps what is done, and a second run finishes the rest", async () => {
      await mkdir(join(dir, "data"));
      for (const name of ["a", "b", "c"])
        await writeFile(join(dir, "data", `${name}.csv`), housesCsv(50));
      // A sink like CSV whose device fills up while writing b's output.
      const full = diskFullOnce("b.csv");
      const error = await captured(() =>
        scoreBatch({
          model: "houses@production",
          registry: temp.registry,
          input: "data",
          output: "out",
          outputFormat: full.format,
          cwd: dir,
          workers: 0,
          batchSize: 10,
        }),
      );
      expect(MlopsError.isInstance(error) && error.code).toBe("file_write");
      expect((error as Error).message).toMatch(/no space left/);
      expect((await readdir(join(dir, "out"))).sort()).toEqual(["_mlops_batch.json", "a.csv"]);
      const manifest = await readManifest(join(dir, "out"));
      expect(manifest?.files.map((file) => file.status)).toEqual(["done", "pending", "pending"]);
      const second = await scoreBatch({
        model: "houses@production",
        registry: temp.registry,
        input: "data",
        output: "out",
        outputFormat: full.format,
        cwd: dir,
        workers: 0,
        batchSize: 10,
      });
      expect(second.resumed).toBe(true);
      expect(second.files.map((file) => file.status)).toEqual(["skipped", "scored", "scored"]);
      expect(second.totals).toMatchObject({ rowsIn: 150, rowsScored: 150 });
      expect((await readdir(join(dir, "out"))).sort()).toEqual([
        "_mlops_batch.json",
        "a.csv",
        "b.csv",
        "c.csv",
      ]);
    });

    it("refuses to mix an unfinished run with other options, and restart discards it", async () => {
      await writeFile(join(dir, "a.csv"), housesCsv(3));
      await mkdir(join(dir, "out"));
      await writeFile(
        manifestPath(join(dir, "out")),
        JSON.stringify({
          format: "mlops.batch-run/v1",
          runId: "r",
          status: "running",
          startedAt: "",
          updatedAt: "",
          timestamp: "20240101000000",
          model: { reference: "houses@staging", name: "houses", version: 2, digest: "x" },
          fingerprint: "{}",
          files: [],
        }),
      );
      const options = {
        model: "houses@production",
        registry: temp.registry,
        input: "a.csv",
        output: "out",
        cwd: dir,
        workers: 0,
      };
      const error = await captured(() => scoreBatch(options));
      expect(MlopsError.isInstance(error) && error.code).toBe("batch_run_conflict");
      expect((error as Error).message).toMatch(/unfinished run of houses@staging/);
      const summary = await scoreBatch({ ...options, restart: true });
      expect(summary.ok).toBe(true);
      expect(summary.resumed).toBe(false);
    });

    it("a prediction column that would overwrite an input column", async () => {
      await writeFile(join(dir, "a.csv"), "rooms,area,color,prediction\n1,2,red,5\n");
      const summary = await scoreBatch({
        model: "houses@production",
        registry: temp.registry,
        input: "a.csv",
        output: "out",
        cwd: dir,
        workers: 0,
      });
      expect(summary.files[0].error?.message).toMatch(/already has a column "prediction"/);
    });
  });
});

/** A CSV sink whose writes fail with ENOSPC once, while writing the output named `name`. */
function diskFullOnce(name: string): { format: FrameFormat } {
  let failed = false;
  const csv = formats.csv;
  const format: FrameFormat = {
    ...csv,
    async openWriter(path, options) {
      const writer = await csv.openWriter(path, options);
      if (failed || !path.endsWith(name)) return writer;
      return {
        get path() {
          return writer.path;
        },
        get rowCount() {
          return writer.rowCount;
        },
        async write(frame) {
          if (writer.rowCount >= 20) {
            failed = true;
            const cause = Object.assign(new Error("ENOSPC: no space left on device, write"), {
              code: "ENOSPC",
            });
            throw new MlopsError(
              "file_write",
              `${path}: cannot write (ENOSPC): no space left on the device`,
              { cause },
            );
          }
          await writer.write(frame);
        },
        close: () => writer.close(),
        abort: () => writer.abort(),
      };
    },
  };
  return { format };
}

function basenameOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

async function captured(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}
