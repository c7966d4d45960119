import type { RunsResponse } from "../../shared/api.js";
import { ApiError, getJson } from "../api.js";
import { h, render } from "../dom.js";
import { num, time } from "../format.js";

const ROW_HEIGHT = 30;
const OVERSCAN = 8;

type Row = RunsResponse["runs"][number];

/** A column of the runs grid. */
interface ColumnDef {
  key: string;
  label: string;
  width: string;
  numeric: boolean;
  value(row: Row): string | number | null;
}

function defaultColumns(data: RunsResponse): { params: string[]; metrics: string[] } {
  // The params and metrics most runs have: a search's trials share theirs.
  const count = (values: readonly (readonly unknown[])[], index: number) =>
    values.reduce((sum, row) => sum + (row[index] === null ? 0 : 1), 0);
  const byUse = (keys: string[], of: (row: Row) => unknown[]) =>
    keys
      .map((key, index) => ({ key, used: count(data.runs.map(of), index) }))
      .filter((item) => item.used > 0)
      .sort((a, b) => b.used - a.used || a.key.localeCompare(b.key))
      .map((item) => item.key);
  const metrics = byUse(data.metricKeys, (row) => row.metrics);
  const preferred = metrics.filter(
    (key) => key.startsWith("mean_test_") || key.startsWith("best_"),
  );
  return {
    params: byUse(data.paramKeys, (row) => row.params).slice(0, 5),
    metrics: [...new Set([...preferred, ...metrics])].slice(0, 4),
  };
}

/** What changes when runs are added, end, or log metrics. */
function signature(data: RunsResponse): string {
  let ended = 0;
  let values = 0;
  for (const row of data.runs) {
    if (row.end !== null) ended++;
    for (const value of row.metrics) if (value !== null) values++;
  }
  return `${data.runs.length}:${ended}:${values}:${data.metricKeys.length}:${data.paramKeys.length}`;
}

/** The experiment's runs: chosen columns, sort, filter, parent/child folding, virtualised. */
export async function runsPage(
  main: HTMLElement,
  [experimentId]: string[],
  url: URL,
): Promise<void> {
  const filter = url.searchParams.get("filter") ?? "";
  const endpoint = (wait: boolean) =>
    `/api/experiments/${encodeURIComponent(experimentId)}/runs?filter=${encodeURIComponent(filter)}${wait ? "&wait=1" : ""}`;
  let data: RunsResponse;
  let filterError = "";
  try {
    data = await getJson<RunsResponse>(endpoint(false));
  } catch (error) {
    if (!(error instanceof ApiError && error.code === "filter_invalid")) throw error;
    filterError = error.message;
    data = await getJson<RunsResponse>(`/api/experiments/${encodeURIComponent(experimentId)}/runs`);
    data = { ...data, runs: [] };
  }
  document.title = `${data.experiment.name} · mlops ui`;
  const chosen = defaultColumns(data);
  const fromUrl = url.searchParams.get("columns");
  if (fromUrl) {
    const keys = fromUrl.split(",");
    chosen.params = keys.filter((key) => key.startsWith("params.")).map((key) => key.slice(7));
    chosen.metrics = keys.filter((key) => key.startsWith("metrics.")).map((key) => key.slice(8));
  }
  let sort: { key: string; descending: boolean } = { key: "start", descending: true };
  const expanded = new Set<string>();
  const selected = new Set<string>();

  const filterInput = h("input", {
    type: "search",
    name: "filter",
    value: filter,
    "aria-label": "filter runs",
    placeholder: "metrics.mean_test_rmse < 0.7 and params.max_depth = '8'",
  });
  const form = h(
    "form",
    { class: "toolbar", role: "search" },
    filterInput,
    h("button", { type: "submit", class: "primary" }, "Filter"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URL(location.href);
    if (filterInput.value.trim() === "") next.searchParams.delete("filter");
    else next.searchParams.set("filter", filterInput.value.trim());
    location.href = next.toString();
  });

  const compareButton = h("button", { type: "button", disabled: true }, "Compare selected");
  compareButton.addEventListener("click", () => {
    location.href = `/experiments/${encodeURIComponent(experimentId)}/compare?runs=${[...selected].join(",")}`;
  });
  const expandAll = h("button", { type: "button" }, "Expand all");
  const collapseAll = h("button", { type: "button" }, "Collapse all");
  const summary = h("span", { class: "muted", role: "status" });
  const picker = h("div");
  const columnsMenu = h("details", { class: "columns" }, h("summary", null, "Columns"), picker);

  const grid = h("div", { class: "runs", role: "grid", "aria-label": "runs" });
  const head = h("div", { class: "head", role: "row" });
  const body = h("div", { class: "body" });
  const spacer = h("div", { style: "position:relative" });
  body.append(spacer);
  grid.append(head, body);

  render(
    main,
    h("div", { class: "crumbs" }, h("a", { href: "/experiments" }, "Experiments"), " / "),
    h("h1", null, data.experiment.name),
    form,
    filterError ? h("p", { class: "error", role: "alert" }, filterError) : null,
    h("div", { class: "toolbar" }, columnsMenu, expandAll, collapseAll, compareButton, summary),
    grid,
  );

  let columns: ColumnDef[] = [];
  let visible: { row: Row; depth: number; children: number }[] = [];

  function buildColumns(): void {
    const paramIndex = new Map(data.paramKeys.map((key, i) => [key, i]));
    const metricIndex = new Map(data.metricKeys.map((key, i) => [key, i]));
    columns = [
      {
        key: "name",
        label: "run",
        width: "minmax(200px, 2fr)",
        numeric: false,
        value: (row) => row.name,
      },
      { key: "status", label: "status", width: "90px", numeric: false, value: (row) => row.status },
      { key: "start", label: "started", width: "150px", numeric: false, value: (row) => row.start },
      ...chosen.params
        .filter((key) => paramIndex.has(key))
        .map((key) => ({
          key: `params.${key}`,
          label: key,
          width: "minmax(90px, 1fr)",
          numeric: false,
          value: (row: Row) => row.params[paramIndex.get(key)!],
        })),
      ...chosen.metrics
        .filter((key) => metricIndex.has(key))
        .map((key) => ({
          key: `metrics.${key}`,
          label: key,
          width: "minmax(100px, 1fr)",
          numeric: true,
          value: (row: Row) => row.metrics[metricIndex.get(key)!],
        })),
    ];
    const template = `34px 26px ${columns.map((column) => column.width).join(" ")}`;
    const minWidth = 60 + columns.length * 110 + 100;
    head.style.gridTemplateColumns = template;
    head.style.minWidth = `${minWidth}px`;
    spacer.style.minWidth = `${minWidth}px`;
    head.replaceChildren(
      h("div", { class: "cell", role: "columnheader" }, ""),
      h("div", { class: "cell", role: "columnheader" }, ""),
      ...columns.map((column) => {
        const button = h(
          "button",
          { type: "button", title: `sort by ${column.label}` },
          column.label + (sort.key === column.key ? (sort.descending ? " ↓" : " ↑") : ""),
        );
        button.addEventListener("click", () => {
          sort = {
            key: column.key,
            descending: sort.key === column.key ? !sort.descending : column.key === "start",
          };
          buildColumns();
          layout();
        });
        return h(
          "div",
          {
            class: column.numeric ? "cell num" : "cell",
            role: "columnheader",
            "aria-sort":
              sort.key === column.key ? (sort.descending ? "descending" : "ascending") : "none",
          },
          button,
        );
      }),
    );
  }

  function compare(a: Row, b: Row): number {
    const column = columns.find((item) => item.key === sort.key) ?? columns[2];
    const x = column.value(a);
    const y = column.value(b);
    // Runs without the value go last, whichever way.
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
    if (y === null || y === undefined) return -1;
    const numeric = typeof x === "number" && typeof y === "number";
    const xn = numeric ? x : Number(x);
    const yn = numeric ? y : Number(y);
    const order =
      Number.isFinite(xn) && Number.isFinite(yn) && String(x) !== "" && String(y) !== ""
        ? xn - yn
        : String(x).localeCompare(String(y));
    return sort.descending ? -order : order;
  }

  const children = new Map<string, Row[]>();
  const ids = new Set(data.runs.map((row) => row.id));
  const topLevel: Row[] = [];
  for (const row of data.runs) {
    if (row.parent !== null && ids.has(row.parent)) {
      let list = children.get(row.parent);
      if (!list) {
        list = [];
        children.set(row.parent, list);
      }
      list.push(row);
    } else topLevel.push(row);
  }

  function layout(): void {
    visible = [];
    for (const row of [...topLevel].sort(compare)) {
      const kids = children.get(row.id) ?? [];
      visible.push({ row, depth: 0, children: kids.length });
      if (expanded.has(row.id)) {
        for (const kid of [...kids].sort(compare))
          visible.push({ row: kid, depth: 1, children: 0 });
      }
    }
    spacer.style.height = `${visible.length * ROW_HEIGHT}px`;
    const nested = data.runs.length - topLevel.length;
    summary.textContent =
      `${data.runs.length.toLocaleString("en")} of ${data.total.toLocaleString("en")} runs` +
      (nested > 0
        ? ` (${topLevel.length.toLocaleString("en")} top-level, ${nested.toLocaleString("en")} nested)`
        : "") +
      (selected.size > 0 ? ` · ${selected.size} selected` : "");
    compareButton.disabled = selected.size < 2;
    compareButton.textContent = `Compare selected (${selected.size})`;
    paint(true);
  }

  let painted = { from: -1, to: -1 };
  function paint(force = false): void {
    const from = Math.max(0, Math.floor(body.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const to = Math.min(
      visible.length,
      Math.ceil((body.scrollTop + body.clientHeight) / ROW_HEIGHT) + OVERSCAN,
    );
    if (!force && from === painted.from && to === painted.to) return;
    painted = { from, to };
    const template = head.style.gridTemplateColumns;
    const rows: HTMLElement[] = [];
    for (let i = from; i < to; i++) rows.push(rowElement(visible[i], i, template));
    spacer.replaceChildren(...rows);
    if (visible.length === 0) {
      spacer.append(
        h("div", { class: "empty" }, filter ? "No run matches the filter." : "No runs yet."),
      );
    }
  }

  function rowElement(
    item: { row: Row; depth: number; children: number },
    index: number,
    template: string,
  ) {
    const { row } = item;
    const check = h("input", {
      type: "checkbox",
      "aria-label": `select ${row.name}`,
      checked: selected.has(row.id),
    });
    check.addEventListener("change", () => {
      const kids = children.get(row.id) ?? [];
      for (const id of [row.id, ...kids.map((kid) => kid.id)]) {
        if (check.checked) selected.add(id);
        else selected.delete(id);
      }
      layout();
    });
    let toggle: HTMLElement | string = "";
    if (item.children > 0) {
      const open = expanded.has(row.id);
      toggle = h(
        "button",
        {
          type: "button",
          class: "toggle",
          "aria-expanded": open ? "true" : "false",
          title: `${item.children} nested runs`,
        },
        open ? "▾" : "▸",
      );
      toggle.addEventListener("click", () => {
        if (expanded.has(row.id)) expanded.delete(row.id);
        else expanded.add(row.id);
        layout();
      });
    }
    const cells = columns.map((column) => {
      const value = column.value(row);
      let content: Node | string;
      if (column.key === "name") {
        content = h(
          "a",
          { href: `/runs/${row.id}` },
          row.name + (item.children > 0 ? ` (${item.children})` : ""),
        );
      } else if (column.key === "start") content = time(row.start);
      else if (typeof value === "number") content = num(value);
      else content = value === null ? "" : String(value);
      return h(
        "div",
        {
          class: `cell${column.numeric ? " num" : ""}${column.key === "name" ? " name" : ""}`,
          role: "gridcell",
        },
        content,
      );
    });
    return h(
      "div",
      {
        class: item.depth > 0 ? "row child" : "row",
        role: "row",
        "data-run": row.id,
        style: `top:${index * ROW_HEIGHT}px;grid-template-columns:${template}`,
      },
      h("div", { class: "cell", role: "gridcell" }, check),
      h("div", { class: "cell", role: "gridcell" }, toggle),
      ...cells,
    );
  }

  function buildPicker(): void {
    const option = (kind: "params" | "metrics", key: string) => {
      const box = h("input", { type: "checkbox", checked: chosen[kind].includes(key) });
      box.addEventListener("change", () => {
        chosen[kind] = box.checked
          ? [...chosen[kind], key]
          : chosen[kind].filter((item) => item !== key);
        buildColumns();
        layout();
      });
      return h("label", null, box, ` ${key}`);
    };
    picker.replaceChildren(
      h("strong", null, "Params"),
      ...data.paramKeys.map((key) => option("params", key)),
      h("strong", null, "Metrics"),
      ...data.metricKeys.map((key) => option("metrics", key)),
    );
  }

  expandAll.addEventListener("click", () => {
    for (const id of children.keys()) expanded.add(id);
    layout();
  });
  collapseAll.addEventListener("click", () => {
    expanded.clear();
    layout();
  });
  let frame = 0;
  body.addEventListener("scroll", () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => paint());
  });
  window.addEventListener("resize", () => paint(true));
  buildPicker();
  buildColumns();
  layout();

  // Newer runs may be on their way: the server read them again in the background.
  if (data.refreshing && !filterError) {
    getJson<RunsResponse>(endpoint(true))
      .then((fresh) => {
        if (signature(fresh) !== signature(data)) location.reload();
      })
      .catch(() => {});
  }
}
