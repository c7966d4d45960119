import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatDuration,
  formatFields,
  formatTable,
  formatTime,
  stripEscapes,
  styleFor,
} from "./text.js";

describe("formatTable", () => {
  it("pads every column to its widest cell, right-aligning where asked", () => {
    const text = formatTable(
      [{ header: "NAME" }, { header: "N", align: "right" }, { header: "NOTE" }],
      [
        ["wine", "3", ""],
        ["housing", "12", "tab\tand\nnewline"],
      ],
    );
    expect(text).toBe("NAME      N  NOTE\n" + "wine      3\n" + "housing  12  tab and newline\n");
  });

  it("measures width in characters, not UTF-16 units or escape bytes", () => {
    const style = styleFor({ isTTY: true }, {});
    const text = formatTable([{ header: "A" }, { header: "B" }], [["→→", "x"]], style);
    expect(stripEscapes(text)).toBe("A   B\n→→  x\n");
  });
});

describe("formatFields", () => {
  it("aligns keys and leaves out undefined values", () => {
    expect(
      formatFields(
        [
          ["digest", "sha256:00"],
          ["run id", undefined],
          ["size", "1 KiB"],
        ],
        "  ",
      ),
    ).toBe("  digest  sha256:00\n  size    1 KiB\n");
    expect(formatFields([["a", undefined]])).toBe("");
  });
});

describe("styleFor", () => {
  it("colours only a terminal without NO_COLOR", () => {
    expect(styleFor({ isTTY: true }, {}).bold("x")).toBe("\u001b[1mx\u001b[22m");
    expect(styleFor({ isTTY: true }, { NO_COLOR: "1" }).bold("x")).toBe("x");
    expect(styleFor({}, {}).bold("x")).toBe("x");
    // no-color.org: an empty NO_COLOR does not count.
    expect(styleFor({ isTTY: true }, { NO_COLOR: "" }).bold("x")).not.toBe("x");
  });
});

describe("value formatting", () => {
  it("writes times in UTC to the second", () => {
    expect(formatTime(0)).toBe("1970-01-01 00:00:00Z");
    expect(formatTime(Date.UTC(2024, 4, 6, 7, 8, 9, 999))).toBe("2024-05-06 07:08:09Z");
    expect(formatTime(undefined)).toBe("-");
  });

  it("writes durations in the largest units that keep them short", () => {
    expect(formatDuration(12)).toBe("12ms");
    expect(formatDuration(1500)).toBe("1.5s");
    expect(formatDuration(2000)).toBe("2s");
    expect(formatDuration(125_000)).toBe("2m 05s");
    expect(formatDuration(3 * 3_600_000 + 7 * 60_000)).toBe("3h 07m");
    expect(formatDuration(-1)).toBe("-");
  });

  it("writes sizes in binary units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(5 * 1024 * 1024)).toBe("5 MiB");
  });
});
