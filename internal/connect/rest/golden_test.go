package rest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/connect"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenCase is one request against a fresh fixture (see newFixture). Its
// golden file holds the request and the exact response: status line,
// headers and body.
type goldenCase struct {
	name         string
	method, path string
	body         string
	header       map[string]string
	auth         string
	timeout      time.Duration
	setup        func(*fakeHerder)
}

const testHost = "connect.test:8083"

func basic(userPass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userPass))
}

const (
	basicAuth  = "basic:admin:pa:ss" // the password holds a colon
	bearerAuth = "bearer:t0ken"
)

// A valid PostgreSQL connector config.
const ordersConfig = `{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":"db.example.com",` +
	`"database.port":5432,"database.user":"replicator","database.password":"pg-s3cret","database.dbname":"orders",` +
	`"topic.prefix":"ord","plugin.name":"pgoutput"}`

func slowInventory(f *fakeHerder) { f.slow["inventory"] = true }

func trackingOff(f *fakeHerder) { f.trackingOff = true }

var goldenCases = []goldenCase{
	// Root and health.
	{name: "root", method: "GET", path: "/"},
	{name: "health", method: "GET", path: "/health"},
	{name: "health_starting", method: "GET", path: "/health", setup: func(f *fakeHerder) {
		f.ready = errors.New("The worker is currently reading to the end of the config topic, which began at 2024-06-10T08:00:00Z")
	}},
	{name: "health_unhealthy", method: "GET", path: "/health", setup: func(f *fakeHerder) {
		f.ready = &connect.Error{Code: 500, Msg: "The worker is currently ensuring membership in the cluster, which began at 2024-06-10T08:00:00Z"}
	}},
	{name: "health_timeout", method: "GET", path: "/health", timeout: 30 * time.Millisecond, setup: func(f *fakeHerder) {
		f.readyBlock = make(chan struct{})
	}},

	// GET /connectors.
	{name: "connectors", method: "GET", path: "/connectors"},
	{name: "connectors_empty", method: "GET", path: "/connectors", setup: func(f *fakeHerder) { clear(f.conns) }},
	{name: "connectors_trailing_slash", method: "GET", path: "/connectors/"},
	{name: "connectors_expand_status", method: "GET", path: "/connectors?expand=status"},
	{name: "connectors_expand_info", method: "GET", path: "/connectors?expand=info"},
	{name: "connectors_expand_status_info", method: "GET", path: "/connectors?expand=status&expand=info"},
	{name: "connectors_expand_info_status", method: "GET", path: "/connectors?expand=info&expand=status"},
	{name: "connectors_expand_unknown", method: "GET", path: "/connectors?expand=tasks"},
	{name: "connectors_expand_comma", method: "GET", path: "/connectors?expand=status,info"},
	{name: "connectors_expand_herder_error", method: "GET", path: "/connectors?expand=info", setup: func(f *fakeHerder) {
		f.broken["inventory"] = errors.New("cannot read the config topic: broker not available")
	}},

	// POST /connectors.
	{name: "create", method: "POST", path: "/connectors", body: `{"name":"orders","config":` + ordersConfig + `}`},
	{name: "create_paused", method: "POST", path: "/connectors", body: `{"name":"orders","config":` + ordersConfig + `,"initial_state":"paused"}`},
	{name: "create_stopped", method: "POST", path: "/connectors", body: `{"name":"orders","config":` + ordersConfig + `,"initial_state":"STOPPED"}`},
	{name: "create_initial_state_invalid", method: "POST", path: "/connectors", body: `{"name":"orders","config":` + ordersConfig + `,"initial_state":"RESTARTING"}`},
	{name: "create_name_escaped", method: "POST", path: "/connectors", body: `{"name":"  my orders ","config":` + ordersConfig + `}`},
	{name: "create_duplicate", method: "POST", path: "/connectors", body: `{"name":"inventory","config":` + ordersConfig + `}`},
	{name: "create_missing_name", method: "POST", path: "/connectors", body: `{"config":` + ordersConfig + `}`},
	{name: "create_missing_config", method: "POST", path: "/connectors", body: `{"name":"orders"}`},
	{name: "create_name_mismatch", method: "POST", path: "/connectors", body: `{"name":"orders","config":{"name":"sales","connector.class":"Postgres"}}`},
	{name: "create_invalid_json", method: "POST", path: "/connectors", body: "{\"name\": \"orders\",\n \"config\": {\"connector.class\" \"Postgres\"}}"},
	{name: "create_truncated_json", method: "POST", path: "/connectors", body: `{"name": "orders", "config": {`},
	{name: "create_empty_body", method: "POST", path: "/connectors"},
	{name: "create_not_object", method: "POST", path: "/connectors", body: `["orders"]`},
	// Only application/json bodies are taken, as Jersey takes them: a
	// page in a browser can send text/plain or a form cross-origin
	// without a preflight, and curl -d sends a form.
	{name: "create_text_plain", method: "POST", path: "/connectors", body: `{"name":"orders","config":` + ordersConfig + `}`, header: map[string]string{"Content-Type": "text/plain"}},
	{name: "create_form", method: "POST", path: "/connectors", body: `{"name":"orders","config":` + ordersConfig + `}`, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
	{name: "create_no_content_type", method: "POST", path: "/connectors", body: `{"name":"orders","config":` + ordersConfig + `}`, header: map[string]string{"Content-Type": ""}},
	{name: "create_json_charset", method: "POST", path: "/connectors", body: `{"name":"orders","config":` + ordersConfig + `}`, header: map[string]string{"Content-Type": "Application/JSON; charset=UTF-8"}},
	// One rule for secrets, the broad one: these names and a URL's
	// password are hidden in every response.
	{name: "config_put_secret_names", method: "PUT", path: "/connectors/orders/config", body: strings.TrimSuffix(ordersConfig, "}") +
		`,"producer.override.ssl.keystore.key":"key-s3cret","vault.token":"vault-s3cret","datadog.api.key":"dd-s3cret",` +
		`"my.secret.value":"my-s3cret","database.url":"postgresql://replicator:url-s3cret@db.example.com:5432/orders?sslmode=require"}`},
	{name: "config_put_text_plain", method: "PUT", path: "/connectors/orders/config", body: ordersConfig, header: map[string]string{"Content-Type": "text/plain;charset=UTF-8"}},
	{name: "validate_text_plain", method: "PUT", path: "/connector-plugins/PostgresConnector/config/validate", body: ordersConfig, header: map[string]string{"Content-Type": "text/plain"}},
	{name: "loggers_put_text_plain", method: "PUT", path: "/admin/loggers/org.apache.kafka.connect", body: `{"level":"TRACE"}`, header: map[string]string{"Content-Type": "text/plain"}},
	{name: "create_null_value", method: "POST", path: "/connectors", body: `{"name":"orders","config":{"connector.class":"Postgres","database.user":null}}`},
	{name: "create_invalid_config", method: "POST", path: "/connectors", body: `{"name":"orders","config":{"connector.class":"Postgres","database.password":"pg-s3cret","database.port":"abc"}}`},
	{name: "create_timeout", method: "POST", path: "/connectors", body: `{"name":"inventory","config":` + ordersConfig + `}`, timeout: 30 * time.Millisecond, setup: slowInventory},

	// GET and DELETE /connectors/{name}.
	{name: "connector", method: "GET", path: "/connectors/inventory"},
	{name: "connector_stopped", method: "GET", path: "/connectors/archive"},
	{name: "connector_unknown", method: "GET", path: "/connectors/nope"},
	{name: "connector_timeout", method: "GET", path: "/connectors/inventory", timeout: 30 * time.Millisecond, setup: slowInventory},
	{name: "connector_herder_error", method: "GET", path: "/connectors/inventory", setup: func(f *fakeHerder) {
		f.broken["inventory"] = errors.New("cannot read the config topic: broker not available")
	}},
	{name: "delete", method: "DELETE", path: "/connectors/inventory"},
	{name: "delete_unknown", method: "DELETE", path: "/connectors/nope"},

	// /connectors/{name}/config.
	{name: "config", method: "GET", path: "/connectors/inventory/config"},
	{name: "config_spec_secrets", method: "GET", path: "/connectors/example/config"},
	{name: "config_unknown", method: "GET", path: "/connectors/nope/config"},
	{name: "config_put_create", method: "PUT", path: "/connectors/orders/config", body: ordersConfig},
	{name: "config_put_update", method: "PUT", path: "/connectors/inventory/config", body: strings.Replace(ordersConfig, `"ord"`, `"inv"`, 1)},
	{name: "config_put_name_mismatch", method: "PUT", path: "/connectors/orders/config", body: `{"name":"sales","connector.class":"Postgres"}`},
	{name: "config_put_invalid", method: "PUT", path: "/connectors/orders/config", body: `{"connector.class":"Postgres","database.password":"pg-s3cret","database.port":"abc"}`},
	{name: "config_put_invalid_json", method: "PUT", path: "/connectors/orders/config", body: `{"connector.class":`},
	{name: "config_put_not_object", method: "PUT", path: "/connectors/orders/config", body: `["connector.class"]`},
	{name: "config_put_nested", method: "PUT", path: "/connectors/orders/config", body: `{"connector.class":"Postgres","database.port":{"value":5432}}`},
	{name: "config_patch", method: "PATCH", path: "/connectors/archive/config", body: `{"database.dbname":"archive2","database.port":5433,"database.password":null,"database.user":"reader"}`},
	{name: "config_patch_unknown", method: "PATCH", path: "/connectors/nope/config", body: `{"database.dbname":"x"}`},
	{name: "config_patch_invalid_json", method: "PATCH", path: "/connectors/archive/config", body: `{"database.dbname":}`},
	{name: "config_patch_invalid", method: "PATCH", path: "/connectors/archive/config", body: `{"database.port":"abc"}`},

	// Status and tasks.
	{name: "status", method: "GET", path: "/connectors/inventory/status"},
	{name: "status_failed_task", method: "GET", path: "/connectors/example/status"},
	{name: "status_unknown", method: "GET", path: "/connectors/nope/status"},
	{name: "status_not_reported", method: "GET", path: "/connectors/ghost/status"},
	{name: "tasks", method: "GET", path: "/connectors/inventory/tasks"},
	{name: "tasks_stopped", method: "GET", path: "/connectors/archive/tasks"},
	{name: "tasks_unknown", method: "GET", path: "/connectors/nope/tasks"},
	{name: "tasks_config", method: "GET", path: "/connectors/inventory/tasks-config"},
	{name: "tasks_config_unknown", method: "GET", path: "/connectors/nope/tasks-config"},
	{name: "task_status", method: "GET", path: "/connectors/inventory/tasks/0/status"},
	{name: "task_status_unknown_task", method: "GET", path: "/connectors/inventory/tasks/3/status"},
	{name: "task_status_unknown", method: "GET", path: "/connectors/nope/tasks/0/status"},
	{name: "task_status_not_a_number", method: "GET", path: "/connectors/inventory/tasks/first/status"},
	{name: "task_restart", method: "POST", path: "/connectors/inventory/tasks/0/restart"},
	{name: "task_restart_unknown_task", method: "POST", path: "/connectors/inventory/tasks/5/restart"},
	{name: "task_restart_unknown", method: "POST", path: "/connectors/nope/tasks/0/restart"},

	// Restart, pause, resume, stop.
	{name: "restart", method: "POST", path: "/connectors/inventory/restart"},
	{name: "restart_forward_ignored", method: "POST", path: "/connectors/inventory/restart?forward=false&includeTasks=false"},
	{name: "restart_include_tasks", method: "POST", path: "/connectors/inventory/restart?includeTasks=true"},
	{name: "restart_only_failed", method: "POST", path: "/connectors/example/restart?includeTasks=TRUE&onlyFailed=true"},
	{name: "restart_not_true", method: "POST", path: "/connectors/inventory/restart?includeTasks=yes"},
	{name: "restart_unknown", method: "POST", path: "/connectors/nope/restart"},
	{name: "pause", method: "PUT", path: "/connectors/inventory/pause"},
	{name: "pause_unknown", method: "PUT", path: "/connectors/nope/pause"},
	{name: "pause_wrong_method", method: "POST", path: "/connectors/inventory/pause"},
	{name: "resume", method: "PUT", path: "/connectors/archive/resume"},
	{name: "resume_unknown", method: "PUT", path: "/connectors/nope/resume"},
	{name: "stop", method: "PUT", path: "/connectors/inventory/stop"},
	{name: "stop_unknown", method: "PUT", path: "/connectors/nope/stop"},

	// Offsets.
	{name: "offsets", method: "GET", path: "/connectors/inventory/offsets"},
	{name: "offsets_unknown", method: "GET", path: "/connectors/nope/offsets"},
	{name: "offsets_alter", method: "PATCH", path: "/connectors/archive/offsets", body: `{"offsets":[{"partition":{"server":"arc"},"offset":{"lsn":9007199254740993,"txId":556}}]}`},
	{name: "offsets_alter_null_offset", method: "PATCH", path: "/connectors/archive/offsets", body: `{"offsets":[{"partition":{"server":"arc"},"offset":null}]}`},
	{name: "offsets_alter_running", method: "PATCH", path: "/connectors/inventory/offsets", body: `{"offsets":[{"partition":{"server":"inv"},"offset":null}]}`},
	{name: "offsets_alter_unknown", method: "PATCH", path: "/connectors/nope/offsets", body: `{"offsets":[{"partition":{"server":"x"},"offset":null}]}`},
	{name: "offsets_alter_empty", method: "PATCH", path: "/connectors/archive/offsets", body: `{"offsets":[]}`},
	{name: "offsets_alter_missing", method: "PATCH", path: "/connectors/archive/offsets", body: `{}`},
	{name: "offsets_alter_no_partition", method: "PATCH", path: "/connectors/archive/offsets", body: `{"offsets":[{}]}`},
	{name: "offsets_alter_not_list", method: "PATCH", path: "/connectors/archive/offsets", body: `{"offsets":{}}`},
	{name: "offsets_alter_unknown_field", method: "PATCH", path: "/connectors/archive/offsets", body: `{"offsets":[{"key":"val"}]}`},
	{name: "offsets_alter_invalid_json", method: "PATCH", path: "/connectors/archive/offsets", body: `{"offsets":[}`},
	{name: "offsets_reset", method: "DELETE", path: "/connectors/archive/offsets"},
	{name: "offsets_reset_running", method: "DELETE", path: "/connectors/inventory/offsets"},

	// Topic tracking (KIP-558), from ConnectorsResourceTest's
	// testConnectorActiveTopics* and testResetConnectorActiveTopics*.
	{name: "topics", method: "GET", path: "/connectors/inventory/topics"},
	{name: "topics_stopped", method: "GET", path: "/connectors/archive/topics"},
	{name: "topics_none", method: "GET", path: "/connectors/example/topics"},
	{name: "topics_unknown", method: "GET", path: "/connectors/nope/topics"},
	{name: "topics_disabled", method: "GET", path: "/connectors/inventory/topics", setup: trackingOff},
	{name: "topics_disabled_unknown", method: "GET", path: "/connectors/nope/topics", setup: trackingOff},
	{name: "topics_reset", method: "PUT", path: "/connectors/archive/topics/reset"},
	{name: "topics_reset_running", method: "PUT", path: "/connectors/inventory/topics/reset"},
	{name: "topics_reset_paused", method: "PUT", path: "/connectors/example/topics/reset"},
	{name: "topics_reset_unknown", method: "PUT", path: "/connectors/nope/topics/reset"},
	{name: "topics_reset_disabled", method: "PUT", path: "/connectors/archive/topics/reset", setup: func(f *fakeHerder) { f.trackingOff = true; f.resetOff = true }},
	{name: "topics_reset_tracking_disabled", method: "PUT", path: "/connectors/archive/topics/reset", setup: trackingOff},
	{name: "topics_reset_not_allowed", method: "PUT", path: "/connectors/archive/topics/reset", setup: func(f *fakeHerder) { f.resetOff = true }},
	{name: "topics_reset_wrong_method", method: "POST", path: "/connectors/archive/topics/reset"},
	{name: "topics_wrong_method", method: "PUT", path: "/connectors/archive/topics"},

	// Logger levels (KIP-495, KIP-976), from LoggingResourceTest.
	{name: "loggers", method: "GET", path: "/admin/loggers"},
	{name: "loggers_trailing_slash", method: "GET", path: "/admin/loggers/"},
	{name: "logger", method: "GET", path: "/admin/loggers/io.debezium.connector.postgresql"},
	{name: "logger_unset", method: "GET", path: "/admin/loggers/org.apache.kafka.connect.runtime.rest"},
	{name: "logger_root", method: "GET", path: "/admin/loggers/root"},
	{name: "logger_root_case", method: "GET", path: "/admin/loggers/ROOT"},
	{name: "logger_not_found", method: "GET", path: "/admin/loggers/org.apache.rostropovich"},
	{name: "logger_set", method: "PUT", path: "/admin/loggers/org.apache.kafka.connect", body: `{"level":"TRACE"}`},
	{name: "logger_set_worker_scope", method: "PUT", path: "/admin/loggers/org.apache.kafka.connect?scope=worker", body: `{"level":"TRACE"}`},
	{name: "logger_set_invalid_scope", method: "PUT", path: "/admin/loggers/org.apache.kafka.connect?scope=kip-976", body: `{"level":"TRACE"}`},
	{name: "logger_set_scope_case", method: "PUT", path: "/admin/loggers/org.apache.kafka.connect?scope=Cluster", body: `{"level":"TRACE"}`},
	{name: "logger_set_cluster", method: "PUT", path: "/admin/loggers/org.apache.kafka.connect?scope=cluster", body: `{"level":"TRACE"}`},
	{name: "logger_set_lower_case", method: "PUT", path: "/admin/loggers/kafka", body: `{"level":"warn"}`},
	{name: "logger_set_unchanged", method: "PUT", path: "/admin/loggers/io.debezium.connector.postgresql", body: `{"level":"DEBUG"}`},
	{name: "logger_set_child", method: "PUT", path: "/admin/loggers/io.debezium.connector.postgresql.encoder", body: `{"level":"ERROR"}`},
	{name: "logger_set_new", method: "PUT", path: "/admin/loggers/org.example.custom", body: `{"level":"INFO"}`},
	{name: "logger_set_root", method: "PUT", path: "/admin/loggers/root", body: `{"level":"ERROR"}`},
	{name: "logger_set_off", method: "PUT", path: "/admin/loggers/kafka", body: `{"level":"OFF"}`},
	{name: "logger_set_empty_args", method: "PUT", path: "/admin/loggers/@root", body: `{}`},
	{name: "logger_set_empty_args_cluster", method: "PUT", path: "/admin/loggers/@root?scope=cluster", body: `{}`},
	{name: "logger_set_empty_args_bad_scope", method: "PUT", path: "/admin/loggers/@root?scope=N/A", body: `{"lvl":"DEBUG"}`},
	{name: "logger_set_null_level", method: "PUT", path: "/admin/loggers/@root", body: `{"level":null}`},
	{name: "logger_set_invalid_level", method: "PUT", path: "/admin/loggers/@root", body: `{"level":"HIGH"}`},
	{name: "logger_set_invalid_level_cluster", method: "PUT", path: "/admin/loggers/@root?scope=cluster", body: `{"level":"HIGH"}`},
	{name: "logger_set_empty_level", method: "PUT", path: "/admin/loggers/@root", body: `{"level":""}`},
	{name: "logger_set_invalid_json", method: "PUT", path: "/admin/loggers/root", body: `{"level":`},
	{name: "logger_set_no_body", method: "PUT", path: "/admin/loggers/root"},
	{name: "logger_set_nested", method: "PUT", path: "/admin/loggers/root", body: `{"level":{"name":"DEBUG"}}`},
	{name: "logger_wrong_method", method: "DELETE", path: "/admin/loggers/root"},
	{name: "loggers_wrong_method", method: "POST", path: "/admin/loggers"},

	// Plugins.
	{name: "plugins", method: "GET", path: "/connector-plugins"},
	{name: "plugins_all", method: "GET", path: "/connector-plugins?connectorsOnly=false"},
	{name: "plugin_config", method: "GET", path: "/connector-plugins/org.example.ExampleSourceConnector/config"},
	{name: "plugin_config_alias", method: "GET", path: "/connector-plugins/ExampleSource/config"},
	{name: "plugin_config_unknown", method: "GET", path: "/connector-plugins/org.example.Nope/config"},
	{name: "validate", method: "PUT", path: "/connector-plugins/ExampleSource/config/validate",
		body: `{"connector.class":"org.example.ExampleSourceConnector","hostname":"h.example.com","password":"pg-s3cret","access.token":"tok-s3cret","api.secret":"api-s3cret"}`},
	{name: "validate_errors", method: "PUT", path: "/connector-plugins/org.example.ExampleSourceConnector/config/validate",
		body: `{"connector.class":"org.example.ExampleSourceConnector","port":"abc","custom.password":"pg-s3cret"}`},
	{name: "validate_null_values", method: "PUT", path: "/connector-plugins/ExampleSourceConnector/config/validate",
		body: `{"connector.class":"ExampleSource","hostname":null,"other":null}`},
	{name: "validate_alias_in_body", method: "PUT", path: "/connector-plugins/org.example.ExampleSourceConnector/config/validate",
		body: `{"connector.class":"ExampleSource","hostname":"h.example.com"}`},
	{name: "validate_class_mismatch", method: "PUT", path: "/connector-plugins/Postgres/config/validate",
		body: `{"connector.class":"org.example.ExampleSourceConnector","hostname":"h.example.com"}`},
	{name: "validate_no_class", method: "PUT", path: "/connector-plugins/ExampleSource/config/validate",
		body: `{"hostname":"h.example.com","password":"pg-s3cret","tasks.max":null}`},
	{name: "validate_unknown_plugin", method: "PUT", path: "/connector-plugins/org.example.NopeConnector/config/validate",
		body: `{"connector.class":"org.example.NopeConnector"}`},
	{name: "validate_invalid_json", method: "PUT", path: "/connector-plugins/ExampleSource/config/validate", body: `{"connector.class":"ExampleSource",}`},
	{name: "validate_transformation", method: "PUT", path: "/connector-plugins/org.example.ExampleTransform/config/validate",
		body: `{"connector.class":"org.example.ExampleTransform"}`},

	// Unknown paths and wrong methods.
	{name: "unknown_path", method: "GET", path: "/nope"},
	{name: "unknown_subresource", method: "GET", path: "/connectors/inventory/nope"},
	{name: "empty_name", method: "GET", path: "/connectors//config"},
	{name: "admin_unknown", method: "GET", path: "/admin/nope"},
	{name: "wrong_method", method: "DELETE", path: "/connectors"},
	{name: "wrong_method_root", method: "POST", path: "/"},

	// Authentication.
	{name: "auth_basic_missing", method: "GET", path: "/connectors", auth: basicAuth},
	{name: "auth_basic_wrong", method: "GET", path: "/connectors", auth: basicAuth, header: map[string]string{"Authorization": basic("admin:pa")}},
	{name: "auth_basic_garbage", method: "GET", path: "/connectors", auth: basicAuth, header: map[string]string{"Authorization": "Basic !!!"}},
	{name: "auth_basic_right", method: "GET", path: "/connectors", auth: basicAuth, header: map[string]string{"Authorization": basic("admin:pa:ss")}},
	{name: "auth_basic_scheme_case", method: "GET", path: "/connectors", auth: basicAuth, header: map[string]string{"Authorization": strings.Replace(basic("admin:pa:ss"), "Basic", "basic", 1)}},
	{name: "auth_basic_given_bearer", method: "GET", path: "/connectors", auth: basicAuth, header: map[string]string{"Authorization": "Bearer t0ken"}},
	{name: "auth_before_routing", method: "GET", path: "/nope", auth: basicAuth},
	{name: "auth_bearer_missing", method: "GET", path: "/connectors", auth: bearerAuth},
	{name: "auth_bearer_wrong", method: "GET", path: "/connectors", auth: bearerAuth, header: map[string]string{"Authorization": "Bearer t0ke"}},
	{name: "auth_bearer_right", method: "GET", path: "/connectors", auth: bearerAuth, header: map[string]string{"Authorization": "Bearer t0ken"}},
}

// serve runs one request against a fresh fixture.
func (c goldenCase) serve(t testing.TB) *httptest.ResponseRecorder {
	t.Helper()
	f := newFixture()
	if c.setup != nil {
		c.setup(f)
	}
	if f.readyBlock != nil {
		t.Cleanup(func() { close(f.readyBlock) })
	}
	h, err := NewHandler(Options{Herder: f, Auth: c.auth, RequestTimeout: c.timeout})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(c.method, "http://"+testHost+c.path, strings.NewReader(c.body))
	if _, ok := c.header["Content-Type"]; !ok && c.method != "GET" && c.method != "HEAD" && c.method != "DELETE" {
		// Every client of Kafka Connect's API declares its JSON body; a
		// case that sets Content-Type shows it in its golden file ("" for
		// none).
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// render is the golden file: the request, "----", the response. The
// response body is written exactly, followed by one newline.
func (c goldenCase) render(rec *httptest.ResponseRecorder) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s\n", c.method, c.path)
	if c.auth != "" {
		fmt.Fprintf(&b, "# auth: %s\n", c.auth)
	}
	for _, k := range slices.Sorted(maps.Keys(c.header)) {
		fmt.Fprintf(&b, "%s: %s\n", k, c.header[k])
	}
	if c.body != "" {
		fmt.Fprintf(&b, "\n%s\n", c.body)
	}
	fmt.Fprintf(&b, "----\n%d %s\n", rec.Code, http.StatusText(rec.Code))
	for _, k := range slices.Sorted(maps.Keys(rec.Header())) {
		for _, v := range rec.Header()[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	if rec.Body.Len() > 0 {
		fmt.Fprintf(&b, "\n%s\n", rec.Body.Bytes())
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range goldenCases {
		if seen[c.name] {
			t.Fatalf("duplicate case %s", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			rec := c.serve(t)
			checkResponse(t, c.method, c.path, rec.Code, rec.Header(), rec.Body.Bytes(), fixtureSecrets)
			got := c.render(rec)
			path := filepath.Join("testdata", "golden", c.name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/connect/rest -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("response differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
	if *update {
		return
	}
	// No stale golden files.
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".txt"); !seen[name] {
			t.Errorf("%s has no test case; delete it or run with -update after removing it", f)
		}
	}
}

// checkResponse checks what holds for every response: a valid status;
// an error is Kafka Connect's JSON error body with the same code (but
// GET /health answers with a WorkerStatus whatever its status); a body is
// compact JSON without a trailing newline; none of the secrets leaks.
func checkResponse(t testing.TB, method, path string, status int, header http.Header, body []byte, secrets []string) {
	t.Helper()
	if status < 100 || status > 599 || http.StatusText(status) == "" {
		t.Fatalf("%s: invalid status %d", method, status)
	}
	for _, s := range secrets {
		if bytes.Contains(body, []byte(s)) {
			t.Fatalf("response leaks the secret %q: %s", s, body)
		}
	}
	if len(body) == 0 {
		if status >= 400 || status == http.StatusOK || status == http.StatusCreated {
			t.Fatalf("status %d without a body", status)
		}
		return
	}
	if ct := header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	if !json.Valid(body) {
		t.Fatalf("body is not JSON: %q", body)
	}
	if body[len(body)-1] == '\n' {
		t.Fatalf("body ends with a newline")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil || !bytes.Equal(compact.Bytes(), body) {
		t.Fatalf("body is not compact: %s", body)
	}
	if status < 400 {
		return
	}
	if p, _, _ := strings.Cut(path, "?"); (p == "/health" || p == "/health/") && (method == "GET" || method == "HEAD") && status != http.StatusUnauthorized {
		var ws workerStatus
		if err := json.Unmarshal(body, &ws); err != nil || ws.Status == "" || ws.Message == "" {
			t.Fatalf("health body is not a WorkerStatus: %s", body)
		}
		return
	}
	var e map[string]json.RawMessage
	if err := json.Unmarshal(body, &e); err != nil || len(e) != 2 {
		t.Fatalf("error body is not {error_code, message}: %s", body)
	}
	var code int
	var msg string
	if json.Unmarshal(e["error_code"], &code) != nil || json.Unmarshal(e["message"], &msg) != nil {
		t.Fatalf("error body is not {error_code, message}: %s", body)
	}
	if code != status || msg == "" {
		t.Fatalf("error body %s for status %d", body, status)
	}
}
