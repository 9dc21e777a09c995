import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "./api";
import { ConnectorsPage, ConnectorPage, NewConnectorPage } from "./connectors";
import { TopicsPage, TopicPage } from "./topics";
import { GroupsPage, GroupPage } from "./groups";
import { Ctx, Settings } from "./ui";
import "./style.css";

function useHash(): string {
  const [hash, setHash] = useState(location.hash || "#/connectors");
  useEffect(() => {
    const on = () => setHash(location.hash || "#/connectors");
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function App() {
  const hash = useHash();
  const [role, setRole] = useState<string>("viewer");
  const [zone, setZone] = useState<Settings["zone"]>((localStorage.getItem("pgmotion.zone") as Settings["zone"]) || "UTC");
  useEffect(() => {
    api<{ role: string }>("/ui/api/whoami").then((r) => setRole(r.role), () => setRole("viewer"));
  }, []);
  const settings: Settings = {
    readOnly: role !== "admin",
    zone,
    setZone: (z) => {
      localStorage.setItem("pgmotion.zone", z);
      setZone(z);
    },
  };
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  let page;
  switch (parts[0]) {
    case "topics":
      page = parts[1] ? <TopicPage name={parts.slice(1).join("/")} /> : <TopicsPage />;
      break;
    case "groups":
      page = parts[1] ? <GroupPage name={parts.slice(1).join("/")} /> : <GroupsPage />;
      break;
    case "new-connector":
      page = <NewConnectorPage />;
      break;
    case "connectors":
    default:
      page = parts[1] ? <ConnectorPage name={parts.slice(1).join("/")} /> : <ConnectorsPage />;
  }
  const nav = (href: string, label: string) => (
    <a href={href} class={hash.startsWith(href) ? "active" : ""}>
      {label}
    </a>
  );
  return (
    <Ctx.Provider value={settings}>
      <header>
        <span class="brand">pgmotion</span>
        <nav>
          {nav("#/connectors", "Connectors")}
          {nav("#/topics", "Topics")}
          {nav("#/groups", "Consumer groups")}
        </nav>
        <span class="spacer" />
        <label class="zone">
          Times in{" "}
          <select value={zone} onChange={(e) => settings.setZone((e.target as HTMLSelectElement).value as Settings["zone"])}>
            <option value="UTC">UTC</option>
            <option value="local">local time</option>
          </select>
        </label>
        <span class={"role " + role} data-testid="role">
          {role === "admin" ? "admin" : "read-only"}
        </span>
      </header>
      <main>{page}</main>
    </Ctx.Provider>
  );
}

render(<App />, document.getElementById("app")!);
