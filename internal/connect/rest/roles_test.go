package rest

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestViewerRole checks the read-only credential: it reads everything,
// changes nothing on any path (Kafka Connect's API and the console's), and
// the console is told the role whatever the client claims.
func TestViewerRole(t *testing.T) {
	var gotRole []string
	console := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotRole = append(gotRole, r.Header.Get(RoleHeader))
		w.WriteHeader(http.StatusTeapot)
	})
	h, err := NewHandler(Options{Herder: newFixture(), Auth: "basic:admin:a-secret", ViewerAuth: "basic:viewer:v-secret", Console: console})
	if err != nil {
		t.Fatal(err)
	}
	basic := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }
	for _, tc := range []struct {
		name, method, path, auth, claim string
		want                            int
		role                            string
	}{
		{"viewer reads connectors", "GET", "/connectors", basic("viewer", "v-secret"), "", 200, ""},
		{"viewer cannot create", "POST", "/connectors", basic("viewer", "v-secret"), "", 403, ""},
		{"viewer cannot pause", "PUT", "/connectors/orders/pause", basic("viewer", "v-secret"), "", 403, ""},
		{"viewer cannot delete", "DELETE", "/connectors/orders", basic("viewer", "v-secret"), "", 403, ""},
		{"viewer cannot write through the console", "POST", "/ui/api/topics", basic("viewer", "v-secret"), "admin", 403, ""},
		{"viewer reads the console, told it is a viewer", "GET", "/ui/api/topics", basic("viewer", "v-secret"), "admin", 418, "viewer"},
		{"admin writes through the console", "POST", "/ui/api/topics", basic("admin", "a-secret"), "", 418, "admin"},
		{"wrong password", "GET", "/ui/", basic("viewer", "nope"), "", 401, ""},
		{"no credentials", "GET", "/ui/", "", "admin", 401, ""},
		{"/ui redirects", "GET", "/ui", basic("viewer", "v-secret"), "", 301, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gotRole = nil
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.claim != "" {
				req.Header.Set(RoleHeader, tc.claim)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tc.want)
			}
			if tc.role != "" && (len(gotRole) != 1 || gotRole[0] != tc.role) {
				t.Fatalf("console was told %v, want %q", gotRole, tc.role)
			}
			if tc.role == "" && len(gotRole) != 0 {
				t.Fatalf("console was called (%v)", gotRole)
			}
		})
	}
	if _, err := NewHandler(Options{Herder: newFixture(), ViewerAuth: "basic:viewer:v"}); err == nil {
		t.Fatal("a viewer credential without an admin one was accepted")
	}
}
