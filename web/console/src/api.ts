// The console's calls: Kafka Connect's REST API as it is, and the
// console's own API under /ui/api/. Both answer errors as
// {"error_code": n, "message": "..."}.

export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

export async function api<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  let body: string | undefined;
  if (init?.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(init.body);
  }
  const res = await fetch(path, { method: init?.method ?? "GET", headers, body, credentials: "same-origin" });
  const text = await res.text();
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      const e = JSON.parse(text);
      if (e && typeof e.message === "string") msg = e.message;
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, msg);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface Message {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  key_base64?: boolean;
  value: string | null;
  value_base64?: boolean;
  tombstone: boolean;
  headers: { key: string; value: string; base64?: boolean }[];
}

export interface TopicRow {
  name: string;
  internal: boolean;
  partitions: number;
  replication_factor: number;
  records: number;
  approximate: boolean;
  compacted: boolean;
  size_bytes: number;
}

export interface TopicInfo extends TopicRow {
  partition_list: { partition: number; leader: number; replicas: number[]; isr: number[]; start_offset: number; end_offset: number }[];
  configs: { name: string; value: string | null; source: string; sensitive: boolean; read_only: boolean }[];
}

export interface GroupRow {
  group: string;
  state: string;
  protocol_type: string;
  members: number;
  topics: number;
  lag: number;
  error?: string;
}

export interface GroupInfo extends GroupRow {
  member_list: { member_id: string; instance_id: string | null; client_id: string; client_host: string; assigned: string[] }[];
  partitions: { topic: string; partition: number; committed: number; end: number; lag: number; member_id?: string }[];
}

export interface Series {
  name: string;
  labels: Record<string, string>;
  points: [number, number][];
}

export interface ConnectorStatus {
  name: string;
  connector: { state: string; worker_id: string; trace?: string };
  tasks: { id: number; state: string; worker_id: string; trace?: string }[];
  type: string;
}

export interface ConnectorExpanded {
  status?: ConnectorStatus;
  info?: { name: string; config: Record<string, string>; tasks: { connector: string; task: number }[]; type: string };
}

export interface ConfigKeyInfo {
  name: string;
  type: string;
  required: boolean;
  default_value: string | null;
  importance: string;
  documentation: string;
  group: string | null;
  order: number;
  width: string;
  display_name: string;
  dependents: string[];
}

export interface ValidateResult {
  name: string;
  error_count: number;
  groups: string[];
  configs: { definition: ConfigKeyInfo; value: { name: string; value: string | null; recommended_values: string[]; errors: string[]; visible: boolean } }[];
}

export const PG_CONNECTOR = "io.debezium.connector.postgresql.PostgresConnector";

export function enc(s: string): string {
  return encodeURIComponent(s);
}
