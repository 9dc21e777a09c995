// Decoding of Debezium change events as Kafka Connect's JsonConverter
// writes them: the schema section tells how each value is encoded
// (Decimal bytes, MicroTimestamp integers, ...), and this module turns
// them back into what the column held. Pure functions, no DOM.

export interface Schema {
  type: string;
  optional?: boolean;
  name?: string;
  version?: number;
  parameters?: Record<string, string>;
  field?: string;
  fields?: Schema[];
  items?: Schema;
  keys?: Schema;
  values?: Schema;
  default?: unknown;
}

export type Zone = "UTC" | "local";

/** A decoded value: its text and what kind of value it is, for styling. */
export interface Shown {
  text: string;
  kind: "null" | "number" | "date" | "time" | "timestamp" | "enum" | "text" | "bool" | "json" | "bytes" | "unavailable" | "struct";
  /** The logical type's name, when the schema has one. */
  logical?: string;
}

/** Debezium's placeholder for an unchanged TOASTed value. */
export const UNAVAILABLE = "__debezium_unavailable_value";

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Two's-complement big-endian bytes to a BigInt, as Java's BigInteger(byte[]). */
export function bytesToBigInt(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  if (b[0] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v;
}

/** The unscaled value and scale as a decimal string: (1234, 2) is "12.34". */
export function scaled(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  let digits = (neg ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    digits = digits.slice(0, digits.length - scale) + "." + digits.slice(digits.length - scale);
  } else if (scale < 0) {
    digits = digits + "0".repeat(-scale);
  }
  return (neg ? "-" : "") + digits;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

/** Formats an instant given in epoch microseconds. */
export function formatMicros(us: bigint, zone: Zone): string {
  const ms = Number(us / 1000n) - (us % 1000n < 0n ? 1 : 0);
  const frac = ((us % 1000000n) + 1000000n) % 1000000n;
  const d = new Date(ms);
  const utc = zone === "UTC";
  const y = utc ? d.getUTCFullYear() : d.getFullYear();
  const mo = (utc ? d.getUTCMonth() : d.getMonth()) + 1;
  const day = utc ? d.getUTCDate() : d.getDate();
  const h = utc ? d.getUTCHours() : d.getHours();
  const mi = utc ? d.getUTCMinutes() : d.getMinutes();
  const s = utc ? d.getUTCSeconds() : d.getSeconds();
  let out = `${pad(y, 4)}-${pad(mo)}-${pad(day)} ${pad(h)}:${pad(mi)}:${pad(s)}`;
  if (frac !== 0n) out += "." + frac.toString().padStart(6, "0").replace(/0+$/, "");
  if (utc) return out + "Z";
  const off = -d.getTimezoneOffset();
  return out + (off >= 0 ? "+" : "-") + pad(Math.floor(Math.abs(off) / 60)) + ":" + pad(Math.abs(off) % 60);
}

/** Formats a time of day given in microseconds since midnight. */
export function formatTimeOfDay(us: bigint): string {
  const total = us / 1000000n;
  const frac = us % 1000000n;
  const h = Number(total / 3600n);
  const m = Number((total / 60n) % 60n);
  const s = Number(total % 60n);
  let out = `${pad(h)}:${pad(m)}:${pad(s)}`;
  if (frac !== 0n) out += "." + frac.toString().padStart(6, "0").replace(/0+$/, "");
  return out;
}

/** Formats days since the epoch as a date. */
export function formatDays(days: number): string {
  const d = new Date(days * 86400000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

function toBig(v: unknown): bigint | null {
  if (typeof v === "number" && Number.isFinite(v)) return BigInt(Math.trunc(v));
  if (typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v);
  return null;
}

/** Decodes one value by its schema. */
export function decode(schema: Schema | undefined, v: unknown, zone: Zone): Shown {
  const logical = schema?.name;
  if (v === null || v === undefined) return { text: "null", kind: "null", logical };
  if (v === UNAVAILABLE) return { text: "unchanged TOAST value", kind: "unavailable", logical };
  const big = toBig(v);
  switch (logical) {
    case "org.apache.kafka.connect.data.Decimal":
      if (typeof v === "string") {
        const scale = Number(schema?.parameters?.scale ?? "0");
        return { text: scaled(bytesToBigInt(base64ToBytes(v)), scale), kind: "number", logical };
      }
      break;
    case "io.debezium.data.VariableScaleDecimal":
      if (typeof v === "object" && v && "value" in v) {
        const o = v as { scale: number; value: string };
        return { text: scaled(bytesToBigInt(base64ToBytes(o.value)), o.scale), kind: "number", logical };
      }
      break;
    case "io.debezium.time.Date":
    case "org.apache.kafka.connect.data.Date":
      if (typeof v === "number") return { text: formatDays(v), kind: "date", logical };
      break;
    case "io.debezium.time.Time":
    case "org.apache.kafka.connect.data.Time":
      if (big !== null) return { text: formatTimeOfDay(big * 1000n), kind: "time", logical };
      break;
    case "io.debezium.time.MicroTime":
      if (big !== null) return { text: formatTimeOfDay(big), kind: "time", logical };
      break;
    case "io.debezium.time.NanoTime":
      if (big !== null) return { text: formatTimeOfDay(big / 1000n), kind: "time", logical };
      break;
    case "io.debezium.time.Timestamp":
    case "org.apache.kafka.connect.data.Timestamp":
      if (big !== null) return { text: formatMicros(big * 1000n, zone), kind: "timestamp", logical };
      break;
    case "io.debezium.time.MicroTimestamp":
      if (big !== null) return { text: formatMicros(big, zone), kind: "timestamp", logical };
      break;
    case "io.debezium.time.NanoTimestamp":
      if (big !== null) return { text: formatMicros(big / 1000n, zone), kind: "timestamp", logical };
      break;
    case "io.debezium.time.ZonedTimestamp":
      if (typeof v === "string") return { text: zonedTimestamp(v, zone), kind: "timestamp", logical };
      break;
    case "io.debezium.time.MicroDuration":
      if (big !== null) return { text: duration(big), kind: "time", logical };
      break;
    case "io.debezium.data.Enum":
    case "io.debezium.data.EnumSet":
      return { text: String(v), kind: "enum", logical };
    case "io.debezium.data.Json":
      return { text: String(v), kind: "json", logical };
  }
  if (schema?.type === "bytes" && typeof v === "string") {
    const b = base64ToBytes(v);
    const hex = Array.from(b.slice(0, 64), (x) => x.toString(16).padStart(2, "0")).join("");
    return { text: "0x" + hex + (b.length > 64 ? `… (${b.length} bytes)` : ""), kind: "bytes", logical };
  }
  if (typeof v === "number") return { text: String(v), kind: "number", logical };
  if (typeof v === "boolean") return { text: String(v), kind: "bool", logical };
  if (typeof v === "string") return { text: v, kind: "text", logical };
  return { text: JSON.stringify(v), kind: "struct", logical };
}

/** A ZonedTimestamp (ISO-8601 with offset) in the chosen zone, fractions kept. */
export function zonedTimestamp(s: string, zone: Zone): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)$/.exec(s);
  if (!m) return s;
  const d = new Date(m[1] + (m[3] ?? "Z"));
  if (Number.isNaN(d.getTime())) return s;
  const frac = (m[2] ?? "").slice(1).padEnd(6, "0").slice(0, 6);
  return formatMicros(BigInt(d.getTime()) * 1000n + BigInt(frac || "0"), zone);
}

function duration(us: bigint): string {
  const neg = us < 0n;
  let x = neg ? -us : us;
  const days = x / 86400000000n;
  x %= 86400000000n;
  return (neg ? "-" : "") + (days ? `${days}d ` : "") + formatTimeOfDay(x);
}

/** A Debezium change event, taken apart. */
export interface ChangeEvent {
  op: string; // c, u, d, r, t, m
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  source: Record<string, unknown> | null;
  /** Column schemas by name, from the before or after struct's schema. */
  columns: Map<string, Schema>;
  /** Column names in table order. */
  order: string[];
  tsMs: number | null;
}

/** Parses a record value; null when it is not a Debezium change event. */
export function parseChangeEvent(value: string | null): ChangeEvent | null {
  if (value === null) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch {
    return null;
  }
  if (!doc || typeof doc !== "object") return null;
  let payload = doc as Record<string, unknown>;
  let schema: Schema | undefined;
  if ("payload" in payload && "schema" in payload) {
    schema = payload.schema as Schema;
    payload = payload.payload as Record<string, unknown>;
  }
  if (!payload || typeof payload !== "object" || typeof payload.op !== "string") return null;
  if (!("before" in payload) && !("after" in payload)) return null;
  const columns = new Map<string, Schema>();
  const order: string[] = [];
  for (const f of schema?.fields ?? []) {
    if ((f.field === "after" || f.field === "before") && f.fields) {
      for (const c of f.fields) {
        if (c.field && !columns.has(c.field)) {
          columns.set(c.field, c);
          order.push(c.field);
        }
      }
    }
  }
  const before = (payload.before ?? null) as Record<string, unknown> | null;
  const after = (payload.after ?? null) as Record<string, unknown> | null;
  for (const row of [after, before]) {
    for (const k of Object.keys(row ?? {})) {
      if (!order.includes(k)) order.push(k);
    }
  }
  return {
    op: payload.op,
    before,
    after,
    source: (payload.source ?? null) as Record<string, unknown> | null,
    columns,
    order,
    tsMs: typeof payload.ts_ms === "number" ? payload.ts_ms : null,
  };
}

/** One row of the before/after view. */
export interface DiffRow {
  column: string;
  before: Shown | null; // null: no before image
  after: Shown | null; // null: no after image
  changed: boolean;
}

/** The before/after view of a change: every column, changed ones marked. */
export function diff(ev: ChangeEvent, zone: Zone): DiffRow[] {
  return ev.order.map((col) => {
    const s = ev.columns.get(col);
    const b = ev.before ? decode(s, ev.before[col], zone) : null;
    const a = ev.after ? decode(s, ev.after[col], zone) : null;
    let changed = false;
    if (ev.before && ev.after) {
      changed = JSON.stringify(ev.before[col]) !== JSON.stringify(ev.after[col]) && ev.after[col] !== UNAVAILABLE;
    }
    return { column: col, before: b, after: a, changed };
  });
}

export const OPS: Record<string, string> = { c: "create", u: "update", d: "delete", r: "read", t: "truncate", m: "message" };
