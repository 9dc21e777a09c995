import { useMemo, useState } from "preact/hooks";
import { api, enc, ConfigKeyInfo, ConnectorExpanded, ConnectorStatus, PG_CONNECTOR, Series, ValidateResult } from "./api";
import { Act, Chart, count, ErrorBox, State, usePoll, useSettings, bytes } from "./ui";

async function action(name: string, what: string, method = "PUT") {
  await api(`/connectors/${enc(name)}/${what}`, { method });
}

export function ConnectorsPage() {
  const { data, error, reload } = usePoll(() => api<Record<string, ConnectorExpanded>>("/connectors?expand=status&expand=info"), 3000);
  const [actionError, setActionError] = useState<string | null>(null);
  const run = (p: Promise<unknown>) => p.then(reload, (e) => setActionError((e as Error).message));
  const names = Object.keys(data ?? {}).sort();
  return (
    <section>
      <div class="titlebar">
        <h1>Connectors</h1>
        <Act onClick={() => void (location.hash = "#/new-connector")} testid="new-connector">
          New connector
        </Act>
      </div>
      <ErrorBox error={error ?? actionError} />
      <table class="list" data-testid="connectors">
        <thead>
          <tr>
            <th>Name</th>
            <th>State</th>
            <th>Tasks</th>
            <th>Database</th>
            <th>Topic prefix</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {names.map((n) => {
            const c = data![n];
            const st = c.status;
            const cfg = c.info?.config ?? {};
            return (
              <tr key={n} data-connector={n}>
                <td>
                  <a href={"#/connectors/" + enc(n)}>{n}</a>
                </td>
                <td>{st ? <State state={st.connector.state} /> : "—"}</td>
                <td>
                  {st?.tasks.map((t) => (
                    <State key={t.id} state={t.state} />
                  ))}
                </td>
                <td>
                  {cfg["database.hostname"]}:{cfg["database.port"] ?? "5432"}/{cfg["database.dbname"]}
                </td>
                <td>{cfg["topic.prefix"]}</td>
                <td class="actions">
                  <Actions name={n} state={st?.connector.state ?? ""} run={run} />
                </td>
              </tr>
            );
          })}
          {data && names.length === 0 && (
            <tr>
              <td colSpan={6} class="empty">
                No connectors yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

function Actions({ name, state, run }: { name: string; state: string; run: (p: Promise<unknown>) => void }) {
  return (
    <>
      {state === "RUNNING" && (
        <Act onClick={() => run(action(name, "pause"))} testid={`pause-${name}`}>
          Pause
        </Act>
      )}
      {(state === "PAUSED" || state === "STOPPED") && (
        <Act onClick={() => run(action(name, "resume"))} testid={`resume-${name}`}>
          Resume
        </Act>
      )}
      {state !== "STOPPED" && (
        <Act onClick={() => run(action(name, "stop"))} testid={`stop-${name}`}>
          Stop
        </Act>
      )}
      <Act onClick={() => run(action(name, "restart?includeTasks=true&onlyFailed=false", "POST"))} title="Restart the connector and all its tasks" testid={`restart-${name}`}>
        Restart
      </Act>
      <Act onClick={() => run(action(name, "restart?includeTasks=true&onlyFailed=true", "POST"))} title="Restart only what has failed">
        Restart failed
      </Act>
      <Act
        danger
        testid={`delete-${name}`}
        onClick={() => {
          if (confirm(`Delete connector ${name}? Its offsets stay in connect-offsets.`)) run(api(`/connectors/${enc(name)}`, { method: "DELETE" }));
        }}
      >
        Delete
      </Act>
    </>
  );
}

/** The CDC series of one connector: slot lag, WAL retained, lag behind the source, event rate, latency, snapshot progress. */
function CdcPanel({ connector, server }: { connector: string; server: string }) {
  const { data } = usePoll(() => api<{ interval_ms: number; series: Series[] }>("/ui/api/cdc"), 5000);
  const find = (name: string, match: (l: Record<string, string>) => boolean) => data?.series.find((s) => s.name === name && match(l(s)));
  const l = (s: Series) => s.labels;
  const byConn = (lab: Record<string, string>) => lab.connector === connector;
  const streaming = (lab: Record<string, string>) => lab.name === server && lab.context === "streaming";
  const snapshot = (lab: Record<string, string>) => lab.name === server && lab.context === "snapshot";
  const lag = find("pgmotion_slot_lag_bytes", byConn);
  const retained = find("pgmotion_slot_wal_retained_bytes", byConn);
  const active = find("pgmotion_slot_active", byConn);
  const behind = find("debezium_metrics_MilliSecondsBehindSource", streaming);
  const seen = find("debezium_metrics_TotalNumberOfEventsSeen", streaming);
  const p99 = find("pgmotion_commit_to_ack_seconds:p99", byConn);
  const rate = useMemo(() => {
    const pts = seen?.points ?? [];
    const out: [number, number][] = [];
    for (let i = 1; i < pts.length; i++) {
      const dt = (pts[i][0] - pts[i - 1][0]) / 1000;
      if (dt > 0) out.push([pts[i][0], Math.max(0, (pts[i][1] - pts[i - 1][1]) / dt)]);
    }
    return out;
  }, [seen]);
  const tables = (data?.series ?? []).filter((s) => s.name === "debezium_metrics_RowsScanned" && snapshot(s.labels));
  const estimate = (t: string) => find("pgmotion_snapshot_rows_estimated", (x) => snapshot(x) && x.table === t)?.points.at(-1)?.[1] ?? -1;
  const eta = find("pgmotion_snapshot_eta_seconds", snapshot)?.points.at(-1)?.[1];
  const running = find("debezium_metrics_SnapshotRunning", snapshot)?.points.at(-1)?.[1];
  const completed = find("debezium_metrics_SnapshotCompleted", snapshot)?.points.at(-1)?.[1];
  const slotActive = active?.points.at(-1)?.[1];
  return (
    <section class="cdc" data-testid="cdc">
      <h2>
        Replication slot{" "}
        {slotActive === undefined ? (
          <span class="muted">(waiting for the first sample)</span>
        ) : slotActive ? (
          <span class="state running" data-testid="slot-active">
            active
          </span>
        ) : (
          <span class="state failed" data-testid="slot-active">
            inactive
          </span>
        )}
      </h2>
      <div class="charts">
        <Chart points={lag?.points ?? []} label="Slot lag (WAL not yet confirmed)" unit={bytes} testid="slot-lag" />
        <Chart points={retained?.points ?? []} label="WAL retained by the slot" unit={bytes} testid="wal-retained" />
        <Chart points={behind?.points ?? []} label="Behind the source" unit={(v) => (v < 0 ? "—" : count(Math.round(v)) + " ms")} testid="behind" />
        <Chart points={rate} label="Events per second" unit={(v) => v.toFixed(1)} testid="rate" />
        <Chart points={p99?.points ?? []} label="Commit → Kafka ack, p99" unit={(v) => (v * 1000).toFixed(1) + " ms"} testid="latency" />
      </div>
      {tables.length > 0 && (
        <>
          <h2>
            Snapshot {running ? <span class="state running">running</span> : null} {eta !== undefined && eta > 0 ? <span class="muted">ETA {Math.round(eta)} s</span> : null}
          </h2>
          <table class="list" data-testid="snapshot-tables">
            <thead>
              <tr>
                <th>Table</th>
                <th>Rows read</th>
                <th>Estimated</th>
                <th>Progress</th>
              </tr>
            </thead>
            <tbody>
              {tables.map((s) => {
                const t = s.labels.table;
                const done = s.points.at(-1)?.[1] ?? 0;
                const est = estimate(t);
                const pct = completed ? 100 : est > 0 ? Math.min(100, (done / est) * 100) : 0;
                return (
                  <tr key={t}>
                    <td>{t}</td>
                    <td>{count(done)}</td>
                    <td>{est < 0 ? "unknown" : count(est)}</td>
                    <td>
                      <progress max={100} value={pct} /> {pct.toFixed(0)}%
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

export function ConnectorPage({ name }: { name: string }) {
  const status = usePoll(() => api<ConnectorStatus>(`/connectors/${enc(name)}/status`), 3000, [name]);
  const info = usePoll(() => api<{ config: Record<string, string> }>(`/connectors/${enc(name)}`), 0, [name]);
  const offsets = usePoll(() => api<unknown>(`/connectors/${enc(name)}/offsets`), 10000, [name]);
  const topics = usePoll(() => api<Record<string, { topics: string[] }>>(`/connectors/${enc(name)}/topics`).catch(() => null), 10000, [name]);
  const [actionError, setActionError] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const run = (p: Promise<unknown>) =>
    p.then(
      () => {
        status.reload();
        info.reload();
      },
      (e) => setActionError((e as Error).message),
    );
  const st = status.data;
  const cfg = info.data?.config ?? {};
  return (
    <section>
      <div class="titlebar">
        <h1>
          <a href="#/connectors">Connectors</a> / {name}
        </h1>
        {st && <State state={st.connector.state} />}
        <span class="spacer" />
        {st && <Actions name={name} state={st.connector.state} run={run} />}
      </div>
      <ErrorBox error={status.error ?? actionError} />
      {cfg["topic.prefix"] && <CdcPanel connector={name} server={cfg["topic.prefix"]} />}
      <h2>Tasks</h2>
      <table class="list" data-testid="tasks">
        <thead>
          <tr>
            <th>Task</th>
            <th>State</th>
            <th>Worker</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {st?.tasks.map((t) => (
            <tr key={t.id}>
              <td>{t.id}</td>
              <td>
                <State state={t.state} />
                {t.trace && <pre class="trace">{t.trace}</pre>}
              </td>
              <td>{t.worker_id}</td>
              <td>
                <Act onClick={() => run(api(`/connectors/${enc(name)}/tasks/${t.id}/restart`, { method: "POST" }))}>Restart task</Act>
              </td>
            </tr>
          ))}
          {st?.connector.trace && (
            <tr>
              <td colSpan={4}>
                <pre class="trace">{st.connector.trace}</pre>
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <h2>Topics</h2>
      <p>
        {topics.data?.[name]?.topics.length
          ? topics.data[name].topics.map((t) => (
              <a key={t} class="chip" href={"#/topics/" + enc(t)}>
                {t}
              </a>
            ))
          : <span class="muted">none recorded</span>}
      </p>
      <div class="titlebar">
        <h2>Configuration</h2>
        <span class="muted">secrets are shown as [hidden]</span>
        <span class="spacer" />
        {editing === null && <Act onClick={() => setEditing(JSON.stringify(cfg, null, 2))}>Edit</Act>}
      </div>
      {editing !== null ? (
        <div>
          <textarea class="code" rows={20} value={editing} onInput={(e) => setEditing((e.target as HTMLTextAreaElement).value)} />
          <p class="muted">A value left as [hidden] keeps the stored secret; type a new one to change it.</p>
          <Act
            onClick={async () => {
              try {
                await api(`/connectors/${enc(name)}/config`, { method: "PUT", body: JSON.parse(editing) });
                setEditing(null);
                info.reload();
                setActionError(null);
              } catch (e) {
                setActionError((e as Error).message);
              }
            }}
          >
            Save
          </Act>
          <button onClick={() => setEditing(null)}>Cancel</button>
        </div>
      ) : (
        <table class="kv" data-testid="config">
          <tbody>
            {Object.keys(cfg)
              .sort()
              .map((k) => (
                <tr key={k}>
                  <th>{k}</th>
                  <td>{cfg[k]}</td>
                </tr>
              ))}
          </tbody>
        </table>
      )}
      <h2>Offsets</h2>
      <pre class="code">{offsets.data ? JSON.stringify(offsets.data, null, 2) : offsets.error ?? "…"}</pre>
    </section>
  );
}

/** Creates a connector from a form generated from the plugin's option declarations, validated as config/validate validates. */
export function NewConnectorPage() {
  const defs = usePoll(() => api<ConfigKeyInfo[]>(`/connector-plugins/${enc(PG_CONNECTOR)}/config`), 0);
  const [name, setName] = useState("");
  const [values, setValues] = useState<Record<string, string>>({ "connector.class": PG_CONNECTOR, "plugin.name": "pgoutput" });
  const [all, setAll] = useState(false);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [message, setMessage] = useState<string | null>(null);
  const { readOnly } = useSettings();
  const groups = useMemo(() => {
    const g = new Map<string, ConfigKeyInfo[]>();
    for (const d of defs.data ?? []) {
      if (!all && !d.required && d.importance !== "HIGH" && !(d.name in values)) continue;
      const k = d.group ?? "Other";
      if (!g.has(k)) g.set(k, []);
      g.get(k)!.push(d);
    }
    for (const list of g.values()) list.sort((a, b) => a.order - b.order);
    return g;
  }, [defs.data, all]);
  const config = () => {
    const c: Record<string, string> = { name };
    for (const [k, v] of Object.entries(values)) if (v !== "") c[k] = v;
    return c;
  };
  const validate = async () => {
    const r = await api<ValidateResult>(`/connector-plugins/${enc(PG_CONNECTOR)}/config/validate`, { method: "PUT", body: config() });
    const errs: Record<string, string[]> = {};
    for (const c of r.configs) if (c.value.errors.length) errs[c.definition.name] = c.value.errors;
    setErrors(errs);
    return r.error_count;
  };
  if (readOnly) return <p>Read-only users cannot create connectors.</p>;
  return (
    <section>
      <h1>
        <a href="#/connectors">Connectors</a> / new PostgreSQL connector
      </h1>
      <ErrorBox error={defs.error ?? message} />
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          setMessage(null);
          try {
            if (!name) {
              setMessage("Name: give the connector a name.");
              return;
            }
            const n = await validate();
            if (n > 0) {
              setMessage(`${n} setting${n === 1 ? "" : "s"} need a fix; see the messages beside them.`);
              return;
            }
            await api("/connectors", { method: "POST", body: { name, config: config() } });
            location.hash = "#/connectors/" + enc(name);
          } catch (err) {
            setMessage((err as Error).message);
          }
        }}
      >
        <label class="field">
          <span>Name</span>
          <input name="name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required />
        </label>
        <label class="check">
          <input type="checkbox" checked={all} onChange={(e) => setAll((e.target as HTMLInputElement).checked)} /> show every option (
          {defs.data?.length ?? 0})
        </label>
        {[...groups.entries()].map(([g, list]) => (
          <fieldset key={g}>
            <legend>{g}</legend>
            {list.map((d) => (
              <label class="field" key={d.name} title={d.documentation}>
                <span>
                  {d.display_name || d.name}
                  {d.required && <b class="req">*</b>} <code>{d.name}</code>
                </span>
                <input
                  name={d.name}
                  type={(d.type === "PASSWORD" ? "password" : "text") as "text"}
                  placeholder={d.default_value ?? ""}
                  value={values[d.name] ?? ""}
                  onInput={(e) => setValues({ ...values, [d.name]: (e.target as HTMLInputElement).value })}
                />
                {errors[d.name]?.map((m) => (
                  <em class="field-error" key={m}>
                    {m}
                  </em>
                ))}
                <small>{d.documentation}</small>
              </label>
            ))}
          </fieldset>
        ))}
        <div class="buttons">
          <button type="button" onClick={() => validate().then((n) => setMessage(n ? `${n} problem${n === 1 ? "" : "s"} found` : "Valid."), (e) => setMessage(e.message))}>
            Validate
          </button>
          <button type="submit" class="primary" data-testid="create-connector">
            Create
          </button>
        </div>
      </form>
    </section>
  );
}
