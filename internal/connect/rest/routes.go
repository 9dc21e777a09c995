package rest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// routeTable lists the endpoints of Kafka Connect's RootResource,
// ConnectorsResource, ConnectorPluginsResource and LoggingResource that
// pgmotion serves.
func (h *handler) routeTable() []route {
	health := newRoute("GET", "/health", h.health).whileStarting()
	health.timeout = healthTimeout
	health.onTimeout = unhealthy
	ready := newRoute("GET", "/health/ready", h.ready).whileStarting() // health.go
	ready.timeout = healthTimeout
	connHealth := newRoute("GET", "/health/connectors/{connector}", h.connectorHealth).whileStarting()
	connHealth.timeout = healthTimeout
	return []route{
		newRoute("GET", "/", h.serverInfo).whileStarting(),
		health,
		ready,
		connHealth,

		newRoute("GET", "/connectors", h.listConnectors),
		newRoute("POST", "/connectors", h.createConnector).withBody(),
		newRoute("GET", "/connectors/{connector}", h.getConnector),
		newRoute("DELETE", "/connectors/{connector}", h.deleteConnector),
		newRoute("GET", "/connectors/{connector}/config", h.getConfig),
		newRoute("PUT", "/connectors/{connector}/config", h.putConfig).withBody(),
		newRoute("PATCH", "/connectors/{connector}/config", h.patchConfig).withBody(),
		newRoute("GET", "/connectors/{connector}/status", h.status),
		newRoute("GET", "/connectors/{connector}/tasks", h.tasks),
		newRoute("GET", "/connectors/{connector}/tasks-config", h.tasksConfig),
		newRoute("GET", "/connectors/{connector}/tasks/{task}/status", h.taskStatus),
		newRoute("POST", "/connectors/{connector}/tasks/{task}/restart", h.restartTask),
		newRoute("POST", "/connectors/{connector}/restart", h.restart),
		newRoute("PUT", "/connectors/{connector}/pause", h.pause),
		newRoute("PUT", "/connectors/{connector}/resume", h.resume),
		newRoute("PUT", "/connectors/{connector}/stop", h.stop),
		newRoute("GET", "/connectors/{connector}/topics", h.topics),
		newRoute("PUT", "/connectors/{connector}/topics/reset", h.resetTopics),
		newRoute("GET", "/connectors/{connector}/offsets", h.offsets),
		newRoute("PATCH", "/connectors/{connector}/offsets", h.alterOffsets).withBody(),
		newRoute("DELETE", "/connectors/{connector}/offsets", h.resetOffsets),

		newRoute("GET", "/connector-plugins", h.plugins).whileStarting(),
		newRoute("GET", "/connector-plugins/{plugin}/config", h.pluginConfig).whileStarting(),
		newRoute("PUT", "/connector-plugins/{plugin}/config/validate", h.validate).withBody().whileStarting(),

		newRoute("GET", "/admin/loggers", h.loggers).whileStarting(),
		newRoute("GET", "/admin/loggers/{logger}", h.logger).whileStarting(),
		newRoute("PUT", "/admin/loggers/{logger}", h.setLogger).withBody(),
	}
}

// route is one endpoint. Patterns are literal segments and the wildcards
// {connector}, {plugin}, {logger} and {task}; {task} only matches a 32-bit integer,
// as Jersey's Integer path parameter does (anything else is a 404).
type route struct {
	method    string
	pattern   []string
	handle    handleFunc
	body      bool          // reads a request body
	timeout   time.Duration // shorter deadline than the request timeout
	onTimeout func() *reply // answer at the deadline instead of the 500
	// starting: the route answers while the worker starts (it reads no
	// connector state). The others wait until the worker has read the
	// internal topics, as Kafka Connect's herder requests wait for its
	// herder thread, and time out as they do.
	starting bool
}

func newRoute(method, pattern string, f handleFunc) route {
	return route{method: method, pattern: splitPath(pattern), handle: f}
}

func (rt route) withBody() route { rt.body = true; return rt }

func (rt route) whileStarting() route { rt.starting = true; return rt }

func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if len(p) > 0 && p[len(p)-1] == '/' {
		p = p[:len(p)-1] // Jersey ignores one trailing slash
	}
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match finds the route for r. With no route it returns the status to
// answer: 405 when the path exists for another method, 404 otherwise.
// HEAD is served by GET routes.
func (h *handler) match(r *http.Request) (*route, *call, int) {
	segs := splitPath(r.URL.EscapedPath())
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, nil, http.StatusNotFound
		}
		segs[i] = u
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	status := http.StatusNotFound
	for i := range h.routes {
		rt := &h.routes[i]
		c, ok := matchPattern(rt.pattern, segs)
		if !ok {
			continue
		}
		if rt.method != method {
			status = http.StatusMethodNotAllowed
			continue
		}
		c.base = baseURL(r)
		c.query = r.URL.Query()
		return rt, c, 0
	}
	return nil, nil, status
}

// baseURL is the scheme and host the request was sent to, "" when unknown.
// Handlers run on their own goroutine and get this instead of the request.
func baseURL(r *http.Request) string {
	if r.Host == "" {
		return ""
	}
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func matchPattern(pattern, segs []string) (*call, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	c := &call{}
	for i, p := range pattern {
		s := segs[i]
		switch p {
		case "{connector}":
			c.connector = s
		case "{plugin}":
			c.plugin = s
		case "{logger}":
			c.logger = s
		case "{task}":
			n, err := strconv.ParseInt(s, 10, 32)
			if err != nil {
				return nil, false
			}
			c.task = int(n)
		default:
			if s != p {
				return nil, false
			}
			continue
		}
		if s == "" {
			return nil, false
		}
	}
	return c, true
}
