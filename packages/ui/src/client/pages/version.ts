import type {
  CategoryProfile,
  ColumnProfile,
  DriftReport,
  GateRunReport,
  TrainingProfile,
} from "@mlops/core";
import type { ReportResponse, VersionResponse } from "../../shared/api.js";
import { getJson, pageConfig, sendJson } from "../api.js";
import { bars, COLORS, density } from "../charts.js";
import { badge, fields, h, render, section, table } from "../dom.js";
import { num, percent, time, value } from "../format.js";
import { aliasHistoryTable } from "../views/aliases.js";
import { driftView } from "../views/drift.js";
import { gateView } from "../views/gate.js";

function crumbs(name: string, version?: number): HTMLElement {
  return h(
    "div",
    { class: "crumbs" },
    h("a", { href: "/models" }, "Models"),
    " / ",
    h("a", { href: `/models/${encodeURIComponent(name)}` }, name),
    " / ",
    version === undefined
      ? null
      : [
          h(
            "a",
            { href: `/models/${encodeURIComponent(name)}/versions/${version}` },
            `v${version}`,
          ),
          " / ",
        ],
  );
}

function profileSection(profile: TrainingProfile | undefined): HTMLElement {
  if (profile === undefined) {
    return section(
      "Training profile",
      h(
        "p",
        { class: "muted" },
        "This version has no training profile (made before profiles existed, or without data).",
      ),
    );
  }
  const columns: [string, ColumnProfile][] = Object.entries(profile.features);
  if (profile.target) columns.push([`${profile.target.name} (target)`, profile.target]);
  if (profile.predictions) columns.push(["predictions", profile.predictions]);
  const grid = h("div", { class: "grid" });
  for (const [name, column] of columns) {
    const stats =
      column.kind === "number" || column.kind === "integer"
        ? `${column.count} values, ${percent(column.missingRate)} missing · mean ${num(column.mean)}, std ${num(column.std)}, ${num(column.min)} to ${num(column.max)}`
        : `${column.count} values, ${percent(column.missingRate)} missing`;
    const picture =
      column.kind === "number" || column.kind === "integer"
        ? density(`${name}: training distribution`, column.edges, column.counts)
        : categoryBars(name, column as CategoryProfile);
    grid.append(
      h(
        "section",
        { class: "card" },
        h("h3", null, name, " ", badge(column.kind, "neutral")),
        h("p", { class: "muted small" }, stats),
        picture,
      ),
    );
  }
  return section(`Training profile (${profile.rowCount} rows)`, grid);
}

function categoryBars(name: string, column: CategoryProfile): HTMLElement {
  return bars(
    `${name}: training frequencies`,
    [...Object.keys(column.values), ...(column.other > 0 ? ["(other)"] : [])],
    [
      {
        name: "rows",
        values: [...Object.values(column.values), ...(column.other > 0 ? [column.other] : [])],
        color: COLORS.primary,
      },
    ],
    { height: 180 },
  );
}

function aliasForm(name: string, version: number): HTMLElement | null {
  if (!pageConfig().writable) return null;
  const alias = h("input", {
    type: "text",
    name: "alias",
    placeholder: "production",
    "aria-label": "alias",
    required: true,
  });
  const reason = h("input", {
    type: "text",
    name: "reason",
    placeholder: "why (kept in the alias history)",
    "aria-label": "reason",
  });
  const message = h("span", { role: "status" });
  const form = h(
    "form",
    { class: "toolbar" },
    alias,
    reason,
    h("button", { type: "submit", class: "primary" }, `Point alias at v${version}`),
    message,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendJson(
      "PUT",
      `/api/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias.value)}`,
      { version, reason: reason.value },
    )
      .then(() => location.reload())
      .catch((error: Error) => {
        message.textContent = error.message;
        message.className = "error";
      });
  });
  return section("Move an alias", form);
}

export async function versionPage(main: HTMLElement, [name, number]: string[]): Promise<void> {
  const data = await getJson<VersionResponse>(
    `/api/models/${encodeURIComponent(name)}/versions/${number}`,
  );
  const { version, manifest } = data;
  document.title = `${name} v${version.version} · mlops ui`;
  const lineage = manifest.lineage;
  const schemaFields = Object.entries(manifest.schema.fields) as unknown as [
    string,
    Record<string, unknown>,
  ][];
  render(
    main,
    crumbs(name),
    h(
      "h1",
      null,
      `${name} v${version.version} `,
      ...version.aliases.map((alias) => badge(`@${alias}`, "neutral")),
    ),
    h(
      "div",
      { class: "grid two" },
      section(
        "Version",
        fields([
          ["uri", `models:/${name}/${version.version}`],
          ["kind", manifest.kind],
          ["created", time(version.createdAt)],
          ["digest", version.digest],
          ["size", `${version.sizeBytes.toLocaleString("en")} bytes`],
          [
            "aliases",
            version.aliases.length
              ? version.aliases.map((alias) => `@${alias}`).join(", ")
              : "none",
          ],
          ["description", version.description ?? ""],
        ]),
      ),
      section(
        "Lineage",
        fields([
          [
            "run",
            data.run
              ? h(
                  "a",
                  { href: `/runs/${data.run.runId}` },
                  `${data.run.runName} (${data.run.runId.slice(0, 8)})`,
                )
              : (version.runId ?? "none"),
          ],
          ["data digest", lineage.dataDigest ?? "not recorded"],
          ["training data", String(lineage.trainingData ?? "not recorded")],
          ["rows", lineage.rowCount === undefined ? "not recorded" : String(lineage.rowCount)],
          ["code version", lineage.gitCommit ?? "not recorded"],
          ["sdk", lineage.sdkVersion],
        ]),
      ),
    ),
    h(
      "div",
      { class: "grid two" },
      section(
        "Metrics",
        table(
          ["metric", "value"],
          Object.entries(manifest.metrics).map(([key, metric]) => [key, num(metric)]),
          { numeric: [false, true] },
        ),
      ),
      section(
        "Params",
        table(
          ["param", "value"],
          Object.entries(manifest.params).map(([key, param]) => [key, value(param)]),
        ),
      ),
    ),
    section(
      `Schema (${schemaFields.length} fields${manifest.schema.target ? `, target ${manifest.schema.target}` : ""})`,
      table(
        ["field", "kind", "nullable", "allowed"],
        schemaFields.map(([field, definition]) => [
          field === manifest.schema.target ? `${field} (target)` : field,
          String(definition.kind),
          definition.nullable ? "yes" : "no",
          Array.isArray(definition.values)
            ? (definition.values as string[]).join(", ")
            : [
                definition.min === undefined ? "" : `≥ ${definition.min}`,
                definition.max === undefined ? "" : `≤ ${definition.max}`,
              ]
                .filter(Boolean)
                .join(", "),
        ]),
      ),
    ),
    section(
      "Reports",
      data.reports.length === 0
        ? h(
            "p",
            { class: "muted" },
            "No gate or drift report kept with this version (each mlops gate run keeps one with its candidate).",
          )
        : table(
            ["when", "kind", "verdict", "report"],
            data.reports.map((report) => [
              time(report.time),
              report.kind,
              badge(
                report.verdict,
                report.verdict === "pass" || report.verdict === "no_drift"
                  ? "good"
                  : report.verdict === "insufficient_data"
                    ? "warn"
                    : "bad",
              ),
              h(
                "a",
                {
                  href: `/models/${encodeURIComponent(name)}/versions/${version.version}/reports/${report.runId}`,
                },
                report.title,
              ),
            ]),
          ),
    ),
    section(
      "Alias moves to and from this version",
      aliasHistoryTable(data.history, "No alias has pointed at this version."),
    ),
    aliasForm(name, version.version),
    profileSection(manifest.profile),
  );
}

export async function reportPage(
  main: HTMLElement,
  [name, number, runId]: string[],
): Promise<void> {
  const data = await getJson<ReportResponse>(
    `/api/models/${encodeURIComponent(name)}/versions/${number}/reports/${encodeURIComponent(runId)}`,
  );
  document.title = `${data.title} · mlops ui`;
  render(
    main,
    crumbs(name, Number(number)),
    h("h1", null, data.title),
    data.kind === "gate"
      ? gateView(data.report as GateRunReport)
      : driftView(data.report as DriftReport),
    h(
      "p",
      { class: "muted small" },
      "Recorded as run ",
      h("a", { href: `/runs/${runId}` }, runId),
      ".",
      ...(data.html
        ? [
            " ",
            h(
              "a",
              {
                href: `/api/models/${encodeURIComponent(name)}/versions/${number}/reports/${encodeURIComponent(runId)}/report.html`,
                download: "",
              },
              "Download the HTML report",
            ),
            " kept with it.",
          ]
        : []),
    ),
  );
}
