package main

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRestAuthValue(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "auth")
	if err := os.WriteFile(file, []byte("bearer:from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGMOTION_REST_AUTH", "bearer:from-env")
	for _, tt := range []struct {
		f       connectFlags
		want    string
		wantErr string
	}{
		{connectFlags{restAuth: "bearer:flag"}, "bearer:flag", ""},
		{connectFlags{restAuthFile: file}, "bearer:from-file", ""},
		{connectFlags{}, "bearer:from-env", ""},
		{connectFlags{restAuth: "bearer:flag", restAuthFile: file}, "", "not both"},
		{connectFlags{restAuthFile: empty}, "", "is empty"},
		{connectFlags{restAuthFile: filepath.Join(dir, "missing")}, "", "--rest-auth-file"},
	} {
		got, err := restAuthValue(tt.f)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%+v: err = %v, want %q", tt.f, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%+v = %q, %v; want %q", tt.f, got, err, tt.want)
		}
	}
}

func TestWarnOpenREST(t *testing.T) {
	for _, tt := range []struct {
		addr string
		auth string
		warn bool
	}{
		{"127.0.0.1:8083", "", false},
		{"[::1]:8083", "", false},
		{"0.0.0.0:8083", "", true},
		{"[::]:8083", "", true},
		{"10.1.2.3:8083", "", true},
		{"0.0.0.0:8083", "bearer:x", false},
	} {
		var buf bytes.Buffer
		g := &globals{log: slog.New(slog.NewTextHandler(&buf, nil))}
		a, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		warnOpenREST(a, tt.auth, g)
		if got := strings.Contains(buf.String(), "without authentication"); got != tt.warn {
			t.Errorf("%s auth=%q: warned %v, want %v: %s", tt.addr, tt.auth, got, tt.warn, buf.String())
		}
	}
}
