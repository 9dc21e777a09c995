import { useEffect, useRef, useState } from "preact/hooks";
import { api, enc, Message, TopicInfo, TopicRow } from "./api";
import { diff, decode, OPS, parseChangeEvent, Schema, Shown } from "./debezium";
import { Act, bytes, count, download, ErrorBox, usePoll, useSettings, when } from "./ui";

const PAGE = 50;

export function TopicsPage() {
  const [q, setQ] = useState("");
  const [offset, setOffset] = useState(0);
  const [internal, setInternal] = useState(false);
  const { zone } = useSettings();
  const page = usePoll(
    () => api<{ total: number; offset: number; topics: TopicRow[] }>(`/ui/api/topics?offset=${offset}&limit=${PAGE}&q=${enc(q)}&internal=${internal}`),
    10000,
    [q, offset, internal],
  );
  // The last record's time is read only for the rows on screen, in one request.
  const names = (page.data?.topics ?? []).map((t) => t.name);
  const last = usePoll(() => (names.length ? api<Record<string, number>>(`/ui/api/topics-last?topics=${names.map(enc).join(",")}`) : Promise.resolve({} as Record<string, number>)), 0, [names.join(",")]);
  const [creating, setCreating] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const total = page.data?.total ?? 0;
  return (
    <section>
      <div class="titlebar">
        <h1>Topics</h1>
        <input class="search" placeholder="filter by name" value={q} onInput={(e) => (setQ((e.target as HTMLInputElement).value), setOffset(0))} />
        <label class="check">
          <input type="checkbox" checked={internal} onChange={(e) => setInternal((e.target as HTMLInputElement).checked)} /> internal
        </label>
        <span class="spacer" />
        <Act onClick={() => setCreating(true)}>New topic</Act>
      </div>
      {creating && <CreateTopic done={() => (setCreating(false), page.reload())} />}
      <ErrorBox error={page.error ?? actionError} />
      <table class="list" data-testid="topics">
        <thead>
          <tr>
            <th>Name</th>
            <th class="num">Partitions</th>
            <th class="num">Replicas</th>
            <th class="num">Records</th>
            <th class="num">Size</th>
            <th>Last record</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {page.data?.topics.map((t) => (
            <tr key={t.name} data-topic={t.name}>
              <td>
                <a href={"#/topics/" + enc(t.name)}>{t.name}</a> {t.compacted && <span class="tag">compacted</span>}
              </td>
              <td class="num">{t.partitions}</td>
              <td class="num">{t.replication_factor}</td>
              <td class="num" title={t.approximate ? "approximate: end minus start offsets of a compacted topic" : "end minus start offsets"}>
                {t.approximate ? "≈ " : ""}
                {count(t.records)}
              </td>
              <td class="num">{bytes(t.size_bytes)}</td>
              <td>{last.data ? when(last.data[t.name] ?? 0, zone) : "…"}</td>
              <td class="actions">
                <Act
                  danger
                  onClick={() => {
                    if (confirm(`Delete topic ${t.name} and all its records?`))
                      return api(`/ui/api/topics/${enc(t.name)}`, { method: "DELETE" }).then(page.reload, (e) => setActionError(e.message));
                  }}
                >
                  Delete
                </Act>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="pager">
        <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
          ‹ previous
        </button>
        <span>
          {total ? `${offset + 1}–${Math.min(total, offset + PAGE)} of ${total}` : "no topics"}
        </span>
        <button disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
          next ›
        </button>
      </div>
    </section>
  );
}

function CreateTopic({ done }: { done: () => void }) {
  const [name, setName] = useState("");
  const [partitions, setPartitions] = useState("1");
  const [policy, setPolicy] = useState("delete");
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="inline-form"
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          await api("/ui/api/topics", { method: "POST", body: { name, partitions: Number(partitions), configs: { "cleanup.policy": policy } } });
          done();
        } catch (err) {
          setError((err as Error).message);
        }
      }}
    >
      <input placeholder="topic name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required />
      <input type="number" min="1" value={partitions} onInput={(e) => setPartitions((e.target as HTMLInputElement).value)} title="partitions" />
      <select value={policy} onChange={(e) => setPolicy((e.target as HTMLSelectElement).value)}>
        <option value="delete">delete</option>
        <option value="compact">compact</option>
      </select>
      <button type="submit" class="primary">
        Create
      </button>
      <button type="button" onClick={done}>
        Cancel
      </button>
      <ErrorBox error={error} />
    </form>
  );
}

export function TopicPage({ name }: { name: string }) {
  const [tab, setTab] = useState<"messages" | "partitions" | "configs">("messages");
  const info = usePoll(() => api<TopicInfo>(`/ui/api/topics/${enc(name)}`), 10000, [name]);
  const t = info.data;
  return (
    <section>
      <div class="titlebar">
        <h1>
          <a href="#/topics">Topics</a> / {name}
        </h1>
        {t && (
          <span class="muted">
            {t.partitions} partitions · {t.approximate ? "≈ " : ""}
            {count(t.records)} records · {bytes(t.size_bytes)}
          </span>
        )}
      </div>
      <ErrorBox error={info.error} />
      <div class="tabs">
        {(["messages", "partitions", "configs"] as const).map((x) => (
          <button key={x} class={tab === x ? "active" : ""} onClick={() => setTab(x)}>
            {x}
          </button>
        ))}
      </div>
      {tab === "messages" && <Messages topic={name} partitions={t?.partitions ?? 0} />}
      {tab === "partitions" && t && (
        <table class="list">
          <thead>
            <tr>
              <th>Partition</th>
              <th>Leader</th>
              <th>Replicas</th>
              <th>In sync</th>
              <th class="num">Start</th>
              <th class="num">End</th>
              <th class="num">Records</th>
            </tr>
          </thead>
          <tbody>
            {t.partition_list.map((p) => (
              <tr key={p.partition}>
                <td>{p.partition}</td>
                <td>{p.leader}</td>
                <td>{p.replicas.join(", ")}</td>
                <td>{p.isr.join(", ")}</td>
                <td class="num">{count(p.start_offset)}</td>
                <td class="num">{count(p.end_offset)}</td>
                <td class="num">{count(p.end_offset - p.start_offset)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {tab === "configs" && t && <TopicConfigs topic={name} info={t} reload={info.reload} />}
    </section>
  );
}

function TopicConfigs({ topic, info, reload }: { topic: string; info: TopicInfo; reload: () => void }) {
  const [edit, setEdit] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const { readOnly } = useSettings();
  return (
    <>
      <ErrorBox error={error} />
      <table class="kv">
        <tbody>
          {info.configs.map((c) => (
            <tr key={c.name} class={c.source === "DYNAMIC_TOPIC_CONFIG" ? "set" : ""}>
              <th>{c.name}</th>
              <td>
                {readOnly || c.read_only || c.sensitive ? (
                  c.value
                ) : (
                  <input value={edit[c.name] ?? c.value ?? ""} onInput={(e) => setEdit({ ...edit, [c.name]: (e.target as HTMLInputElement).value })} />
                )}
              </td>
              <td class="muted">{c.source.toLowerCase().replace(/_/g, " ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {Object.keys(edit).length > 0 && (
        <Act
          onClick={() =>
            api(`/ui/api/topics/${enc(topic)}/configs`, { method: "PUT", body: edit }).then(
              () => (setEdit({}), setError(null), reload()),
              (e) => setError(e.message),
            )
          }
        >
          Save {Object.keys(edit).length} change{Object.keys(edit).length === 1 ? "" : "s"}
        </Act>
      )}
    </>
  );
}

type Mode = "newest" | "offset" | "timestamp" | "key";

/** Messages of a topic: seek, key lookup, server-side filter, live tail, export. */
function Messages({ topic, partitions }: { topic: string; partitions: number }) {
  const [mode, setMode] = useState<Mode>("newest");
  const [arg, setArg] = useState("");
  const [partition, setPartition] = useState("");
  const [limit, setLimit] = useState("50");
  const [messages, setMessages] = useState<Message[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [filter, setFilter] = useState("");
  const [maxScan, setMaxScan] = useState("1000000");
  const [progress, setProgress] = useState<{ scanned: number; matched: number; total: number; reason?: string } | null>(null);
  const [tailing, setTailing] = useState(false);
  const source = useRef<EventSource | null>(null);

  const stopStream = () => {
    source.current?.close();
    source.current = null;
    setTailing(false);
  };
  useEffect(() => stopStream, [topic]);

  const load = async () => {
    stopStream();
    setProgress(null);
    setLoading(true);
    setError(null);
    try {
      const p = new URLSearchParams({ mode, limit });
      if (partition !== "") p.set("partition", partition);
      if (mode === "offset") p.set("offset", arg || "0");
      if (mode === "timestamp") p.set("timestamp", String(Date.parse(arg) || 0));
      if (mode === "key") p.set("key", arg);
      const r = await api<{ messages: Message[] }>(`/ui/api/topics/${enc(topic)}/messages?${p}`);
      setMessages(r.messages.reverse());
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    load();
  }, [topic]);

  const search = () => {
    stopStream();
    setMessages([]);
    setError(null);
    const p = new URLSearchParams({ q: filter, max_scan: maxScan, limit: "1000" });
    if (partition !== "") p.set("partition", partition);
    const es = new EventSource(`/ui/api/topics/${enc(topic)}/search?${p}`);
    source.current = es;
    setProgress({ scanned: 0, matched: 0, total: 0 });
    const found: Message[] = [];
    let pending = false;
    const flush = () => {
      pending = false;
      setMessages([...found]);
    };
    es.addEventListener("match", (e) => {
      found.push(JSON.parse((e as MessageEvent).data));
      if (!pending) {
        pending = true;
        requestAnimationFrame(flush);
      }
    });
    es.addEventListener("progress", (e) => setProgress(JSON.parse((e as MessageEvent).data)));
    es.addEventListener("done", (e) => {
      setProgress(JSON.parse((e as MessageEvent).data));
      flush();
      es.close();
      source.current = null;
    });
    es.addEventListener("error", (e) => {
      const data = (e as MessageEvent).data;
      if (data) setError(JSON.parse(data).message);
      es.close();
      source.current = null;
      setProgress((p) => (p && !p.reason ? { ...p, reason: "stopped" } : p));
    });
  };

  const tail = () => {
    stopStream();
    setProgress(null);
    setTailing(true);
    const open = () => {
      const es = new EventSource(`/ui/api/topics/${enc(topic)}/tail`);
      source.current = es;
      es.addEventListener("record", (e) => {
        const m = JSON.parse((e as MessageEvent).data) as Message;
        setMessages((prev) => (prev.some((x) => x.partition === m.partition && x.offset === m.offset) ? prev : [m, ...prev].slice(0, 500)));
      });
      es.addEventListener("error", () => {
        // The browser reconnects by itself after a network error; after
        // an error answer it gives up, so the tail opens again itself
        // until the user stops it.
        if (es.readyState === EventSource.CLOSED && source.current === es) setTimeout(() => source.current === es && open(), 1000);
      });
    };
    open();
  };

  const searching = source.current !== null && !tailing;
  return (
    <div class="messages">
      <div class="toolbar">
        <select value={mode} onChange={(e) => setMode((e.target as HTMLSelectElement).value as Mode)} data-testid="seek-mode">
          <option value="newest">newest</option>
          <option value="offset">from offset</option>
          <option value="timestamp">from time</option>
          <option value="key">by key</option>
        </select>
        {mode !== "newest" && (
          <input
            placeholder={mode === "offset" ? "offset" : mode === "timestamp" ? "2026-12-07T10:00:00Z" : "key, exactly as stored"}
            value={arg}
            onInput={(e) => setArg((e.target as HTMLInputElement).value)}
          />
        )}
        <select value={partition} onChange={(e) => setPartition((e.target as HTMLSelectElement).value)} title="partition">
          <option value="">all partitions</option>
          {Array.from({ length: partitions }, (_, i) => (
            <option key={i} value={String(i)}>
              partition {i}
            </option>
          ))}
        </select>
        <input type="number" min="1" max="1000" value={limit} onInput={(e) => setLimit((e.target as HTMLInputElement).value)} title="how many" class="short" />
        <button onClick={load} disabled={loading} data-testid="load">
          {loading ? "Loading…" : "Load"}
        </button>
        <span class="sep" />
        <input placeholder="filter: text in key or value" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} data-testid="filter" />
        <input type="number" min="1" value={maxScan} onInput={(e) => setMaxScan((e.target as HTMLInputElement).value)} title="stop after scanning this many records" class="short" />
        {searching ? (
          <button onClick={() => (stopStream(), setProgress((p) => (p ? { ...p, reason: "stopped" } : p)))} data-testid="stop-filter">
            Stop
          </button>
        ) : (
          <button onClick={search} disabled={!filter} data-testid="run-filter">
            Filter
          </button>
        )}
        <span class="sep" />
        {tailing ? (
          <button onClick={stopStream} data-testid="stop-tail">
            Stop live
          </button>
        ) : (
          <button onClick={tail} data-testid="tail">
            Live
          </button>
        )}
        <span class="spacer" />
        <button onClick={() => download(`${topic}.json`, "application/json", JSON.stringify(messages, null, 2))}>Export JSON</button>
        <button onClick={() => download(`${topic}.csv`, "text/csv", toCSV(messages))}>Export CSV</button>
      </div>
      {progress && (
        <div class="progress" data-testid="filter-progress">
          scanned <b data-testid="scanned">{count(progress.scanned)}</b> / {count(progress.total)} · matched <b data-testid="matched">{count(progress.matched)}</b>
          {progress.reason && <span class="muted"> · {progress.reason === "end" ? "done" : progress.reason === "stopped" ? "stopped" : `stopped at ${progress.reason.replace("_", " ")}`}</span>}
          <progress max={progress.total || 1} value={progress.scanned} />
        </div>
      )}
      {tailing && <div class="progress live">live: new records appear at the top</div>}
      <ErrorBox error={error} />
      <div data-testid="message-list">
        {messages.map((m) => (
          <MessageRow key={`${m.partition}-${m.offset}`} m={m} />
        ))}
        {!loading && messages.length === 0 && <p class="empty">No records.</p>}
      </div>
    </div>
  );
}

function toCSV(ms: Message[]): string {
  const q = (s: string | null) => (s === null ? "" : '"' + s.replace(/"/g, '""') + '"');
  const rows = ["partition,offset,timestamp,key,value,headers"];
  for (const m of ms) rows.push([m.partition, m.offset, new Date(m.timestamp).toISOString(), q(m.key), q(m.value), q(JSON.stringify(m.headers))].join(","));
  return rows.join("\n") + "\n";
}

function Value({ s }: { s: Shown | null }) {
  if (!s) return <span class="muted">—</span>;
  return (
    <span class={"v " + s.kind} title={s.logical}>
      {s.text}
    </span>
  );
}

function MessageRow({ m }: { m: Message }) {
  const { zone } = useSettings();
  const [open, setOpen] = useState(false);
  const [raw, setRaw] = useState(false);
  const ev = m.value_base64 ? null : parseChangeEvent(m.value);
  const keyText = m.key === null ? "null" : keyPayload(m.key);
  return (
    <div class={"msg" + (m.tombstone ? " tombstone" : "")} data-testid="message" data-offset={m.offset}>
      <div class="msg-head" onClick={() => setOpen(!open)}>
        <span class="muted">
          p{m.partition} @{m.offset}
        </span>
        <span>{when(m.timestamp, zone)}</span>
        {ev && <span class={"op op-" + ev.op}>{OPS[ev.op] ?? ev.op}</span>}
        {m.tombstone && <span class="tag" data-testid="tombstone">tombstone</span>}
        {m.headers.length > 0 && <span class="tag">{m.headers.length} headers</span>}
        <code class="key">{keyText.length > 80 ? keyText.slice(0, 80) + "…" : keyText}</code>
        {ev && <Summary ev={ev} />}
      </div>
      {open && (
        <div class="msg-body">
          {m.headers.length > 0 && (
            <table class="kv">
              <tbody>
                {m.headers.map((h, i) => (
                  <tr key={i}>
                    <th>{h.key}</th>
                    <td>{h.value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {ev && !raw ? (
            <>
              <DiffTable ev={ev} />
              <button onClick={() => setRaw(true)}>raw JSON</button>
            </>
          ) : (
            <>
              <pre class="code">{pretty(m.value)}</pre>
              {ev && <button onClick={() => setRaw(false)}>decoded</button>}
            </>
          )}
        </div>
      )}
    </div>
  );
}

/** The row's changed columns in one line, so a list shows what happened without opening rows. */
function Summary({ ev }: { ev: ReturnType<typeof parseChangeEvent> & object }) {
  const { zone } = useSettings();
  const rows = diff(ev, zone);
  const shown = ev.op === "u" ? rows.filter((r) => r.changed) : rows.slice(0, 4);
  return (
    <span class="summary">
      {shown.slice(0, 4).map((r) => (
        <span key={r.column}>
          {r.column}=<Value s={ev.op === "d" ? r.before : r.after} />{" "}
        </span>
      ))}
    </span>
  );
}

function DiffTable({ ev }: { ev: NonNullable<ReturnType<typeof parseChangeEvent>> }) {
  const { zone } = useSettings();
  const rows = diff(ev, zone);
  const src = ev.source ?? {};
  const srcSchema: Schema = { type: "int64", name: "io.debezium.time.Timestamp" };
  return (
    <div>
      <table class="diff" data-testid="diff">
        <thead>
          <tr>
            <th>Column</th>
            <th>Before</th>
            <th>After</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.column} class={r.changed ? "changed" : ""} data-column={r.column} data-changed={r.changed ? "true" : "false"}>
              <th>
                {r.column} <small class="muted">{ev.columns.get(r.column)?.name?.replace(/^.*\./, "") ?? ev.columns.get(r.column)?.type ?? ""}</small>
              </th>
              <td>{ev.before ? <Value s={r.before} /> : <span class="muted">{ev.op === "u" ? "not captured (REPLICA IDENTITY DEFAULT)" : "—"}</span>}</td>
              <td>
                <Value s={r.after} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted source">
        {String(src.db ?? "")}.{String(src.schema ?? "")}.{String(src.table ?? "")} · lsn {String(src.lsn ?? "")} · txId {String(src.txId ?? "")} · committed{" "}
        {typeof src.ts_ms === "number" ? decode(srcSchema, src.ts_ms, zone).text : "?"}
        {src.snapshot && src.snapshot !== "false" ? ` · snapshot ${src.snapshot}` : ""}
      </p>
    </div>
  );
}

/** A JsonConverter key's payload ({"id":62}), or the key as it is. */
function keyPayload(k: string): string {
  try {
    const d = JSON.parse(k);
    if (d && typeof d === "object" && "schema" in d && "payload" in d) return JSON.stringify(d.payload);
  } catch {
    /* not JSON */
  }
  return k;
}

function pretty(v: string | null): string {
  if (v === null) return "null (tombstone)";
  try {
    return JSON.stringify(JSON.parse(v), null, 2);
  } catch {
    return v;
  }
}
