import { MlopsError } from "../errors/error.js";
import { validateId } from "./names.js";
import { RUN_STATUSES, type Run, type SearchRunsOptions } from "./types.js";

/**
 * MLflow's run search syntax (the subset every store supports), parsed by a small tokenizer and a
 * recursive-descent parser into plain clauses that a store can evaluate in memory
 * (`applyRunSearch`) or translate (to SQL, for a database store).
 *
 *   filter   := clause (AND clause)*
 *   clause   := identifier comparator value | identifier [NOT] IN "(" value ("," value)* ")"
 *   identifier := entity "." key      entity: metrics | params | tags | attributes (+ MLflow's
 *                                     singular and short forms); key: a word, or `quoted` /
 *                                     "quoted" when it holds other characters
 *   orderBy  := identifier [ASC | DESC]
 *
 * A clause about a key that a run lacks is false, whatever the comparator (as in MLflow).
 */

/** Which part of a run a clause reads. */
export type RunEntity = "metric" | "param" | "tag" | "attribute";

/** The run attributes a filter or ordering can name. */
export type RunAttribute = "run_id" | "run_name" | "status" | "start_time" | "end_time";

/** A filter comparator. */
export type FilterComparator =
  | "="
  | "!="
  | "<"
  | "<="
  | ">"
  | ">="
  | "LIKE"
  | "ILIKE"
  | "IN"
  | "NOT IN";

/**
 * One `entity.key comparator value` clause of a run filter.
 *
 * @example
 * parseRunFilter("metrics.rmse < 0.8")[0];
 * // { entity: "metric", key: "rmse", comparator: "<", value: 0.8 }
 */
export interface RunFilterClause {
  entity: RunEntity;
  key: string;
  comparator: FilterComparator;
  value: number | string | string[];
}

/**
 * One ordering key of a run search.
 *
 * @example
 * parseRunOrderBy(["metrics.rmse ASC"]); // [{ entity: "metric", key: "rmse", ascending: true }]
 */
export interface RunOrderKey {
  entity: RunEntity;
  key: string;
  ascending: boolean;
}

const ENTITIES: Record<string, RunEntity> = {
  metric: "metric",
  metrics: "metric",
  param: "param",
  params: "param",
  parameter: "param",
  parameters: "param",
  tag: "tag",
  tags: "tag",
  attribute: "attribute",
  attributes: "attribute",
  attr: "attribute",
  attrs: "attribute",
  run: "attribute",
};

const ATTRIBUTES: readonly RunAttribute[] = [
  "run_id",
  "run_name",
  "status",
  "start_time",
  "end_time",
];
const NUMERIC_ATTRIBUTES = new Set<string>(["start_time", "end_time"]);
const NUMERIC_COMPARATORS = new Set<FilterComparator>(["=", "!=", "<", "<=", ">", ">="]);
const STRING_COMPARATORS = new Set<FilterComparator>(["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"]);

type Token =
  | { type: "word"; text: string; position: number }
  | { type: "string"; text: string; position: number; quote: "'" | '"' }
  | { type: "quoted"; text: string; position: number }
  | { type: "number"; text: string; value: number; position: number }
  | { type: "operator"; text: string; position: number }
  | { type: "punctuation"; text: "(" | ")" | ","; position: number }
  | { type: "end"; text: ""; position: number };

class FilterSyntaxError {
  constructor(
    readonly problem: string,
    readonly position: number,
  ) {}
}

function describeToken(token: Token): string {
  if (token.type === "end") return "end of input";
  if (token.type === "string") return `${token.quote}${token.text}${token.quote}`;
  if (token.type === "quoted") return `\`${token.text}\``;
  return JSON.stringify(token.text);
}

/** Splits filter text into tokens; throws `FilterSyntaxError` at the first unreadable character. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (/\s/.test(char)) {
      index += 1;
      continue;
    }
    const start = index;
    if (char === "'" || char === '"' || char === "`") {
      let value = "";
      index += 1;
      for (;;) {
        if (index >= text.length) throw new FilterSyntaxError(`unterminated ${char} quote`, start);
        if (text[index] === char && text[index + 1] === char) {
          value += char; // SQL escape: a doubled quote stands for one
          index += 2;
        } else if (text[index] === "\\" && index + 1 < text.length) {
          value += text[index + 1];
          index += 2;
        } else if (text[index] === char) {
          index += 1;
          break;
        } else {
          value += text[index];
          index += 1;
        }
      }
      tokens.push(
        char === "`"
          ? { type: "quoted", text: value, position: start }
          : { type: "string", text: value, position: start, quote: char },
      );
      continue;
    }
    const number = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(index));
    if (number && /[-\d.]/.test(char)) {
      index += number[0].length;
      tokens.push({ type: "number", text: number[0], value: Number(number[0]), position: start });
      continue;
    }
    const operator = /^(?:<=|>=|!=|<>|==|=|<|>)/.exec(text.slice(index));
    if (operator) {
      index += operator[0].length;
      const normalized = operator[0] === "<>" ? "!=" : operator[0] === "==" ? "=" : operator[0];
      tokens.push({ type: "operator", text: normalized, position: start });
      continue;
    }
    if (char === "(" || char === ")" || char === ",") {
      index += 1;
      tokens.push({ type: "punctuation", text: char, position: start });
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_.:/-]*/.exec(text.slice(index));
    if (word) {
      index += word[0].length;
      tokens.push({ type: "word", text: word[0], position: start });
      continue;
    }
    throw new FilterSyntaxError(`unexpected character ${JSON.stringify(char)}`, start);
  }
  tokens.push({ type: "end", text: "", position: text.length });
  return tokens;
}

class Parser {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  peek(): Token {
    return this.tokens[this.index];
  }

  next(): Token {
    const token = this.tokens[this.index];
    if (token.type !== "end") this.index += 1;
    return token;
  }

  isWord(token: Token, word: string): boolean {
    return token.type === "word" && token.text.toUpperCase() === word;
  }

  expected(what: string, token: Token = this.peek()): never {
    throw new FilterSyntaxError(`expected ${what}, found ${describeToken(token)}`, token.position);
  }

  identifier(): { entity: RunEntity; key: string } {
    const token = this.next();
    const what =
      "an identifier like metrics.rmse, params.max_depth, tags.team or attributes.status";
    if (token.type !== "word") this.expected(what, token);
    const dot = token.text.indexOf(".");
    if (dot < 0) this.expected(what, token);
    const prefix = token.text.slice(0, dot);
    const entity = ENTITIES[prefix.toLowerCase()];
    if (!entity) {
      throw new FilterSyntaxError(
        `unknown entity ${JSON.stringify(prefix)}: expected metrics, params, tags or attributes`,
        token.position,
      );
    }
    let key = token.text.slice(dot + 1);
    if (key === "") {
      const quoted = this.next();
      const isQuoted =
        quoted.type === "quoted" || (quoted.type === "string" && quoted.quote === '"');
      if (!isQuoted || quoted.text === "") {
        this.expected(
          `a key after "${prefix}." (quote keys with other characters: \`key\`)`,
          quoted,
        );
      }
      key = quoted.text;
    }
    if (entity === "attribute") {
      const attribute = key.toLowerCase();
      if (!ATTRIBUTES.includes(attribute as RunAttribute)) {
        throw new FilterSyntaxError(
          `unknown attribute ${JSON.stringify(key)}: expected one of ${ATTRIBUTES.join(", ")}`,
          token.position,
        );
      }
      key = attribute;
    }
    return { entity, key };
  }

  comparator(): FilterComparator {
    const token = this.next();
    if (token.type === "operator") return token.text as FilterComparator;
    if (this.isWord(token, "LIKE")) return "LIKE";
    if (this.isWord(token, "ILIKE")) return "ILIKE";
    if (this.isWord(token, "IN")) return "IN";
    if (this.isWord(token, "NOT")) {
      const after = this.next();
      if (this.isWord(after, "IN")) return "NOT IN";
      this.expected('"IN" after "NOT"', after);
    }
    this.expected("a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)", token);
  }

  value(numeric: boolean, subject: string): number | string {
    const token = this.next();
    if (numeric) {
      if (token.type === "number") return token.value;
      if (token.type === "string" && token.text.trim() !== "" && Number.isFinite(+token.text)) {
        return Number(token.text);
      }
      this.expected(`a number to compare ${subject} with`, token);
    }
    if (token.type === "string") return token.text;
    if (token.type === "number") {
      throw new FilterSyntaxError(
        `${subject} holds strings: quote the value, e.g. ${subject} = '${token.text}'`,
        token.position,
      );
    }
    this.expected(`a quoted string to compare ${subject} with`, token);
  }

  clause(): RunFilterClause {
    const start = this.peek().position;
    const { entity, key } = this.identifier();
    const subject = `${entity === "attribute" ? "attributes" : `${entity}s`}.${key}`;
    const numeric = entity === "metric" || NUMERIC_ATTRIBUTES.has(key);
    const comparatorToken = this.peek();
    const comparator = this.comparator();
    const allowed = numeric ? NUMERIC_COMPARATORS : STRING_COMPARATORS;
    if (!allowed.has(comparator)) {
      throw new FilterSyntaxError(
        `${subject} cannot be compared with ${comparator}: ` +
          `expected one of ${[...allowed].join(", ")}`,
        comparatorToken.position,
      );
    }
    let value: RunFilterClause["value"];
    if (comparator === "IN" || comparator === "NOT IN") {
      const open = this.next();
      if (open.type !== "punctuation" || open.text !== "(") this.expected('"("', open);
      const values: string[] = [];
      for (;;) {
        values.push(this.value(false, subject) as string);
        const separator = this.next();
        if (separator.type === "punctuation" && separator.text === ")") break;
        if (separator.type !== "punctuation" || separator.text !== ",") {
          this.expected('"," or ")"', separator);
        }
      }
      value = values;
    } else {
      value = this.value(numeric, subject);
    }
    if (
      entity === "attribute" &&
      key === "status" &&
      comparator !== "LIKE" &&
      comparator !== "ILIKE"
    ) {
      for (const status of Array.isArray(value) ? value : [value]) {
        if (!RUN_STATUSES.includes(status as never)) {
          throw new FilterSyntaxError(
            `unknown run status ${JSON.stringify(status)}: ` +
              `expected one of ${RUN_STATUSES.join(", ")}`,
            start,
          );
        }
      }
    }
    return { entity, key, comparator, value };
  }
}

function filterError(source: string, kind: string, error: unknown): never {
  if (error instanceof FilterSyntaxError) {
    throw new MlopsError(
      "filter_invalid",
      `invalid ${kind} ${JSON.stringify(source)}: ${error.problem} ` +
        `at position ${error.position + 1}`,
      { location: { column: error.position + 1 } },
    );
  }
  throw error;
}

/**
 * Parses an MLflow run filter into clauses; throws `filter_invalid` with the position of the
 * problem and what was expected there.
 *
 * @example
 * parseRunFilter("metrics.rmse < 0.8 and params.max_depth = '5'");
 * // [{ entity: "metric", key: "rmse", comparator: "<", value: 0.8 },
 * //  { entity: "param", key: "max_depth", comparator: "=", value: "5" }]
 */
export function parseRunFilter(filter: string): RunFilterClause[] {
  if (typeof filter !== "string") {
    throw new MlopsError("filter_invalid", `run filter: expected a string, got ${typeof filter}`);
  }
  try {
    const parser = new Parser(tokenize(filter));
    const clauses: RunFilterClause[] = [];
    if (parser.peek().type === "end") return clauses;
    for (;;) {
      clauses.push(parser.clause());
      const token = parser.next();
      if (token.type === "end") return clauses;
      if (parser.isWord(token, "AND")) continue;
      if (parser.isWord(token, "OR")) {
        throw new FilterSyntaxError("OR is not supported: join clauses with AND", token.position);
      }
      parser.expected('"AND" or the end of the filter', token);
    }
  } catch (error) {
    filterError(filter, "run filter", error);
  }
}

/**
 * Parses MLflow `orderBy` strings (`"metrics.rmse ASC"`, `"attributes.start_time DESC"`).
 *
 * @example
 * parseRunOrderBy(["metrics.rmse", "attributes.start_time DESC"]);
 */
export function parseRunOrderBy(orderBy: readonly string[]): RunOrderKey[] {
  if (!Array.isArray(orderBy)) {
    throw new MlopsError("filter_invalid", "orderBy: expected an array of strings");
  }
  return orderBy.map((text) => {
    if (typeof text !== "string") {
      throw new MlopsError("filter_invalid", `orderBy: expected strings, got ${typeof text}`);
    }
    try {
      const parser = new Parser(tokenize(text));
      const { entity, key } = parser.identifier();
      let ascending = true;
      const direction = parser.next();
      if (parser.isWord(direction, "DESC")) ascending = false;
      else if (!parser.isWord(direction, "ASC") && direction.type !== "end") {
        parser.expected('"ASC", "DESC" or the end', direction);
      }
      if (direction.type !== "end") {
        const end = parser.next();
        if (end.type !== "end") parser.expected("the end of the order key", end);
      }
      return { entity, key, ascending };
    } catch (error) {
      return filterError(text, "orderBy key", error);
    }
  });
}

/** The value a clause or order key reads from a run, or undefined when the run lacks it. */
function readValue(run: Run, entity: RunEntity, key: string): string | number | undefined {
  const own = (record: Record<string, string | number>) =>
    Object.hasOwn(record, key) ? record[key] : undefined;
  if (entity === "metric") return own(run.metrics);
  if (entity === "param") return own(run.params);
  if (entity === "tag") return own(run.tags);
  switch (key as RunAttribute) {
    case "run_id":
      return run.runId;
    case "run_name":
      return run.runName;
    case "status":
      return run.status;
    case "start_time":
      return run.startTime;
    case "end_time":
      return run.endTime;
  }
}

function likeToRegExp(pattern: string, ignoreCase: boolean): RegExp {
  let source = "";
  for (const char of pattern) {
    if (char === "%") source += "[\\s\\S]*";
    else if (char === "_") source += "[\\s\\S]";
    else source += char.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, ignoreCase ? "i" : "");
}

function matchesClause(run: Run, clause: RunFilterClause): boolean {
  const actual = readValue(run, clause.entity, clause.key);
  if (actual === undefined) return false;
  const { comparator, value } = clause;
  switch (comparator) {
    case "=":
      return actual === value;
    case "!=":
      return actual !== value;
    case "<":
      return (actual as number) < (value as number);
    case "<=":
      return (actual as number) <= (value as number);
    case ">":
      return (actual as number) > (value as number);
    case ">=":
      return (actual as number) >= (value as number);
    case "LIKE":
    case "ILIKE":
      return likeToRegExp(value as string, comparator === "ILIKE").test(String(actual));
    case "IN":
      return (value as string[]).includes(String(actual));
    case "NOT IN":
      return !(value as string[]).includes(String(actual));
  }
}

/**
 * True when the run satisfies every clause.
 *
 * @example
 * matchesRunFilter(run, parseRunFilter("attributes.status = 'FINISHED'"));
 */
export function matchesRunFilter(run: Run, clauses: readonly RunFilterClause[]): boolean {
  return clauses.every((clause) => matchesClause(run, clause));
}

/**
 * A sort comparator for runs: each key in turn (a run missing the key sorts last in either
 * direction), then newest start time, then run id, so the order is always reproducible.
 *
 * @example
 * runs.sort(compareRunsBy(parseRunOrderBy(["metrics.rmse ASC"])));
 */
export function compareRunsBy(keys: readonly RunOrderKey[]): (a: Run, b: Run) => number {
  const all: RunOrderKey[] = [
    ...keys,
    { entity: "attribute", key: "start_time", ascending: false },
    { entity: "attribute", key: "run_id", ascending: true },
  ];
  return (a, b) => {
    for (const { entity, key, ascending } of all) {
      const left = readValue(a, entity, key);
      const right = readValue(b, entity, key);
      if (left === right) continue;
      if (left === undefined) return 1;
      if (right === undefined) return -1;
      const order = left < right ? -1 : 1;
      return ascending ? order : -order;
    }
    return 0;
  };
}

/** The default `maxResults` of a run search (MLflow's). */
export const SEARCH_RUNS_DEFAULT_MAX = 1000;

/** The largest `maxResults` of a run search (MLflow's). */
export const SEARCH_RUNS_LIMIT = 50_000;

/**
 * Checks a search's options and returns its parsed filter, ordering and limit; throws
 * `filter_invalid` or `argument_invalid` before a store reads anything (the experiment and
 * parent run ids checked too).
 *
 * @example
 * const { clauses, order, maxResults } = prepareRunSearch(options);
 */
export function prepareRunSearch(options: SearchRunsOptions = {}): {
  clauses: RunFilterClause[];
  order: RunOrderKey[];
  maxResults: number;
} {
  const maxResults = options.maxResults ?? SEARCH_RUNS_DEFAULT_MAX;
  if (!Number.isSafeInteger(maxResults) || maxResults < 1 || maxResults > SEARCH_RUNS_LIMIT) {
    throw new MlopsError(
      "argument_invalid",
      `maxResults: expected an integer from 1 to ${SEARCH_RUNS_LIMIT}, got ${String(maxResults)}`,
    );
  }
  if (options.experimentIds !== undefined && !Array.isArray(options.experimentIds)) {
    throw new MlopsError("argument_invalid", "experimentIds: expected an array of ids");
  }
  const clauses = parseRunFilter(options.filter ?? "");
  const order = parseRunOrderBy(options.orderBy ?? []);
  for (const id of options.experimentIds ?? []) validateId("experiment id", id);
  if (options.parentRunId !== undefined) validateId("parent run id", options.parentRunId);
  return { clauses, order, maxResults };
}

/**
 * Runs a search over runs held in memory: experiment ids, parent run, filter, ordering, limit.
 * Stores that load runs into memory use this; database stores translate the parsed clauses.
 *
 * @example
 * const best = applyRunSearch(allRuns, { filter: "metrics.rmse < 1", orderBy: ["metrics.rmse"] });
 */
export function applyRunSearch(runs: readonly Run[], options: SearchRunsOptions = {}): Run[] {
  const { clauses, order, maxResults } = prepareRunSearch(options);
  const experiments = options.experimentIds ? new Set(options.experimentIds) : undefined;
  return runs
    .filter(
      (run) =>
        (!experiments || experiments.has(run.experimentId)) &&
        (options.parentRunId === undefined || run.parentRunId === options.parentRunId) &&
        matchesRunFilter(run, clauses),
    )
    .sort(compareRunsBy(order))
    .slice(0, maxResults);
}
