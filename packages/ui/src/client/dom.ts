/** A child of `h`: nodes, text, numbers, or nothing (null, undefined, false are skipped). */
export type Child = Node | string | number | null | undefined | false | readonly Child[];

type Props = Record<string, string | number | boolean | null | undefined | EventListener>;

/**
 * An element with attributes, listeners (`onclick`) and children.
 *
 * @example
 * h("a", { href: "/models", class: "nav" }, "Models");
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

/** Appends children as `h` takes them. */
export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/** A titled section of a page. */
export function section(title: string, ...children: Child[]): HTMLElement {
  return h("section", { class: "card" }, h("h2", null, title), ...children);
}

/** A two-column list of labels and values (`<dl>`). */
export function fields(entries: readonly (readonly [string, Child])[]): HTMLElement {
  return h(
    "dl",
    { class: "fields" },
    entries.map(([label, value]) => [h("dt", null, label), h("dd", null, value)]),
  );
}

/** A plain table: a header row and body rows; numbers align right. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly Child[])[],
  options: { numeric?: readonly boolean[]; caption?: string } = {},
): HTMLElement {
  const numeric = options.numeric ?? [];
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      null,
      options.caption ? h("caption", null, options.caption) : null,
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          headers.map((header, i) => h("th", { class: numeric[i] ? "num" : null }, header)),
        ),
      ),
      h(
        "tbody",
        null,
        rows.map((row) =>
          h(
            "tr",
            null,
            row.map((cell, i) => h("td", { class: numeric[i] ? "num" : null }, cell)),
          ),
        ),
      ),
    ),
  );
}

/** A coloured word for a verdict: pass / fail, drift / no drift, a status. */
export function badge(text: string, tone: "good" | "bad" | "neutral" | "warn"): HTMLElement {
  return h("span", { class: `badge ${tone}` }, text);
}

/** Replaces `parent`'s children (nulls and falses skipped, as in `h`). */
export function render(parent: HTMLElement, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}
