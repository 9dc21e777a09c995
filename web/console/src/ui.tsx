// Shared pieces: settings context, polling, formatting, small widgets.
import { createContext, ComponentChildren } from "preact";
import { useContext, useEffect, useRef, useState } from "preact/hooks";
import type { Zone } from "./debezium";

export interface Settings {
  readOnly: boolean;
  zone: Zone;
  setZone: (z: Zone) => void;
}

export const Ctx = createContext<Settings>({ readOnly: true, zone: "UTC", setZone: () => {} });
export const useSettings = () => useContext(Ctx);

/** Loads with fn now and every interval ms (0: once); reload() loads again. */
export function usePoll<T>(fn: () => Promise<T>, interval: number, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    let alive = true;
    let timer: number | undefined;
    const load = async () => {
      try {
        const d = await fnRef.current();
        if (alive) {
          setData(d);
          setError(null);
        }
      } catch (e) {
        if (alive) setError((e as Error).message);
      }
      if (alive && interval > 0) timer = setTimeout(load, interval) as unknown as number;
    };
    load();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [...deps, tick, interval]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

export function bytes(n: number): string {
  if (n < 0) return "?";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let x = n;
  while (x >= 1024 && i < u.length - 1) {
    x /= 1024;
    i++;
  }
  return (i === 0 ? String(x) : x.toFixed(1)) + " " + u[i];
}

export function count(n: number): string {
  return n.toLocaleString("en-US");
}

export function when(ms: number, zone: Zone): string {
  if (!ms) return "—";
  const d = new Date(ms);
  const p = (x: number, w = 2) => String(x).padStart(w, "0");
  if (zone === "UTC") {
    return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}Z`;
  }
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export function ErrorBox({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      {error}
    </div>
  );
}

export function State({ state }: { state: string }) {
  return <span class={"state " + state.toLowerCase()}>{state}</span>;
}

/** A button for a change; hidden for read-only users. */
export function Act(props: { onClick: () => void | Promise<void>; children: ComponentChildren; danger?: boolean; title?: string; testid?: string }) {
  const { readOnly } = useSettings();
  const [busy, setBusy] = useState(false);
  if (readOnly) return null;
  return (
    <button
      class={props.danger ? "danger" : ""}
      title={props.title}
      data-testid={props.testid}
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        try {
          await props.onClick();
        } finally {
          setBusy(false);
        }
      }}
    >
      {props.children}
    </button>
  );
}

/** A small line chart of [ms, value] points. */
export function Chart({ points, label, unit, testid }: { points: [number, number][]; label: string; unit?: (v: number) => string; testid?: string }) {
  const w = 320;
  const h = 80;
  const fmt = unit ?? ((v: number) => count(Math.round(v)));
  const last = points.length ? points[points.length - 1][1] : null;
  let path = "";
  if (points.length > 1) {
    const t0 = points[0][0];
    const t1 = points[points.length - 1][0];
    const vs = points.map((p) => p[1]);
    const lo = Math.min(0, ...vs);
    const hi = Math.max(...vs, lo + 1);
    path = points
      .map((p, i) => {
        const x = ((p[0] - t0) / Math.max(1, t1 - t0)) * w;
        const y = h - ((p[1] - lo) / (hi - lo)) * (h - 4) - 2;
        return (i ? "L" : "M") + x.toFixed(1) + "," + y.toFixed(1);
      })
      .join(" ");
  }
  return (
    <figure class="chart" data-testid={testid}>
      <figcaption>
        {label}: <b data-testid={testid ? testid + "-value" : undefined}>{last === null ? "no data yet" : fmt(last)}</b>
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" width="100%" height={h}>
        <path d={path} fill="none" stroke="currentColor" stroke-width="1.5" />
      </svg>
    </figure>
  );
}

/** Saves text as a file. */
export function download(name: string, type: string, text: string) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
