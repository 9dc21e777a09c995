import { useState } from "preact/hooks";
import { api, enc, GroupInfo, GroupRow } from "./api";
import { Act, count, ErrorBox, State, usePoll } from "./ui";

export function GroupsPage() {
  const { data, error } = usePoll(() => api<GroupRow[]>("/ui/api/groups"), 5000);
  return (
    <section>
      <h1>Consumer groups</h1>
      <ErrorBox error={error} />
      <table class="list" data-testid="groups">
        <thead>
          <tr>
            <th>Group</th>
            <th>State</th>
            <th>Type</th>
            <th class="num">Members</th>
            <th class="num">Topics</th>
            <th class="num">Lag</th>
          </tr>
        </thead>
        <tbody>
          {data?.map((g) => (
            <tr key={g.group}>
              <td>
                <a href={"#/groups/" + enc(g.group)}>{g.group}</a>
              </td>
              <td>
                <State state={g.state} />
              </td>
              <td>{g.protocol_type}</td>
              <td class="num">{g.members}</td>
              <td class="num">{g.topics}</td>
              <td class="num">{g.lag < 0 ? "?" : count(g.lag)}</td>
            </tr>
          ))}
          {data && data.length === 0 && (
            <tr>
              <td colSpan={6} class="empty">
                No consumer groups.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

export function GroupPage({ name }: { name: string }) {
  const { data, error, reload } = usePoll(() => api<GroupInfo>(`/ui/api/groups/${enc(name)}`), 5000, [name]);
  const [to, setTo] = useState("start");
  const [ts, setTs] = useState("");
  const [msg, setMsg] = useState<string | null>(null);
  return (
    <section>
      <div class="titlebar">
        <h1>
          <a href="#/groups">Consumer groups</a> / {name}
        </h1>
        {data && <State state={data.state} />}
        <span class="spacer" />
        <Act
          danger
          onClick={() => {
            if (confirm(`Delete group ${name}?`)) void api(`/ui/api/groups/${enc(name)}`, { method: "DELETE" }).then(() => void (location.hash = "#/groups"), (e) => setMsg(e.message));
          }}
        >
          Delete
        </Act>
      </div>
      <ErrorBox error={error ?? msg} />
      <div class="toolbar">
        <span>Reset offsets to</span>
        <select value={to} onChange={(e) => setTo((e.target as HTMLSelectElement).value)}>
          <option value="start">the start</option>
          <option value="end">the end</option>
          <option value="timestamp">a time</option>
        </select>
        {to === "timestamp" && <input placeholder="2026-12-07T10:00:00Z" value={ts} onInput={(e) => setTs((e.target as HTMLInputElement).value)} />}
        <Act
          onClick={() =>
            api<{ partitions: number }>(`/ui/api/groups/${enc(name)}/reset`, { method: "POST", body: { to, timestamp: Date.parse(ts) || 0 } }).then(
              (r) => (setMsg(null), reload(), alert(`Reset ${r.partitions} partitions.`)),
              (e) => setMsg(e.message),
            )
          }
        >
          Reset
        </Act>
        <span class="muted">(the group must have no active members)</span>
      </div>
      <h2>Members</h2>
      <table class="list">
        <thead>
          <tr>
            <th>Member</th>
            <th>Client</th>
            <th>Host</th>
            <th>Assigned</th>
          </tr>
        </thead>
        <tbody>
          {data?.member_list.map((m) => (
            <tr key={m.member_id}>
              <td>{m.member_id}</td>
              <td>{m.client_id}</td>
              <td>{m.client_host}</td>
              <td>{m.assigned.join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Lag per partition</h2>
      <table class="list" data-testid="group-lag">
        <thead>
          <tr>
            <th>Topic</th>
            <th class="num">Partition</th>
            <th class="num">Committed</th>
            <th class="num">End</th>
            <th class="num">Lag</th>
          </tr>
        </thead>
        <tbody>
          {data?.partitions.map((p) => (
            <tr key={p.topic + p.partition}>
              <td>
                <a href={"#/topics/" + enc(p.topic)}>{p.topic}</a>
              </td>
              <td class="num">{p.partition}</td>
              <td class="num">{p.committed < 0 ? "—" : count(p.committed)}</td>
              <td class="num">{count(p.end)}</td>
              <td class="num">{p.lag < 0 ? "?" : count(p.lag)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
