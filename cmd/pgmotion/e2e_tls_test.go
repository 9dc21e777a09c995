package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pgmotion-e2e"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})))
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestE2ERESTTLSAuthAndProviders serves the API over TLS with a bearer
// token, and runs a connector whose config reads a value from the
// environment through ${env:...}.
func TestE2ERESTTLSAuthAndProviders(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE t (id int PRIMARY KEY)`)
	u := parseDSN(t, dsn)
	t.Setenv("PGM_E2E_DBNAME", u.db)
	// As in Kafka, providers are off until config.providers enables them.
	t.Setenv("PGMOTION_CONFIG_PROVIDERS", "env")
	t.Setenv("PGMOTION_CONFIG_PROVIDERS_ENV_CLASS", "org.apache.kafka.common.config.provider.EnvVarConfigProvider")
	broker := startBroker(t)
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	port := freePort(t)
	t.Setenv("PGMOTION_LISTENERS", fmt.Sprintf("https://127.0.0.1:%d", port))
	// The credential comes from a file, which unlike a flag does not
	// show in ps; the listener is written as Kafka Connect's https://.
	authFile := filepath.Join(t.TempDir(), "rest-auth")
	writeFile(t, authFile, "bearer:e2e-token\n")
	startPgmotion(t, "connect", "--data-dir", t.TempDir(), "--bootstrap-servers", broker,
		"--rest-tls-cert", certFile, "--rest-tls-key", keyFile, "--rest-auth-file", authFile)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	call := func(method, path, token, body string) (int, string) {
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, fmt.Sprintf("https://127.0.0.1:%d%s", port, path), r)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		code, _ := call("GET", "/connectors", "e2e-token", "")
		return code == 200, nil
	})
	if code, _ := call("GET", "/connectors", "", ""); code != 401 {
		t.Errorf("no token: status %d, want 401", code)
	}
	if code, _ := call("GET", "/connectors", "wrong", ""); code != 401 {
		t.Errorf("wrong token: status %d, want 401", code)
	}
	body := fmt.Sprintf(`{"name":"env","config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":%q,"database.port":%q,"database.user":"postgres","database.password":"x","database.dbname":"${env:PGM_E2E_DBNAME}","plugin.name":"pgoutput","topic.prefix":"env","slot.name":"env_slot"}}`, u.host, u.port)
	if code, out := call("POST", "/connectors", "e2e-token", body); code != 201 {
		t.Fatalf("create: %d %s", code, out)
	}
	_, cfg := call("GET", "/connectors/env/config", "e2e-token", "")
	if !strings.Contains(cfg, `"database.dbname":"${env:PGM_E2E_DBNAME}"`) {
		t.Errorf("GET config must return the placeholder unresolved: %s", cfg)
	}
	pgtest.WaitFor(t, 60*time.Second, func() (bool, error) {
		_, out := call("GET", "/connectors/env/status", "e2e-token", "")
		return strings.Contains(out, `"tasks":[{"id":0,"state":"RUNNING"`), nil
	})
	pgtest.Exec(t, dsn, `INSERT INTO t VALUES (1)`)
	consume(t, broker, "env.public.t", 1, 60*time.Second)
}

// TestE2EWorkerConfigFile runs a worker from the original demo's
// connect-distributed.properties, with bootstrap.servers pointed at our
// broker and the value converter's schemas turned off, which the
// connector inherits.
func TestE2EWorkerConfigFile(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE t (id int PRIMARY KEY)`)
	broker := startBroker(t)
	dir := t.TempDir()
	props := filepath.Join(dir, "connect-distributed.properties")
	writeFile(t, props, `bootstrap.servers=`+broker+`
group.id=connect-cluster
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=false
offset.storage.topic=connect-offsets
offset.storage.replication.factor=1
config.storage.topic=connect-configs
config.storage.replication.factor=1
status.storage.topic=connect-status
status.storage.replication.factor=1
offset.flush.interval.ms=10000
plugin.path=/usr/share/java,/usr/share/confluent-hub-components
`)
	file := connectorFile(t, dsn, "props-connector", map[string]string{"topic.prefix": "props", "slot.name": "props_slot"})
	startPgmotion(t, "connect", "--rest", "127.0.0.1:0", "--data-dir", dir, "--worker-config", props, file)
	waitSlot(t, dsn, "props_slot")
	pgtest.Exec(t, dsn, `INSERT INTO t VALUES (7)`)
	m := consume(t, broker, "props.public.t", 1, 60*time.Second)[0]
	if v := str(m.Payload); strings.HasPrefix(v, `{"schema"`) || !strings.Contains(v, `"after":{"id":7}`) {
		t.Errorf("value should have no schema section: %s", v)
	}
	if k := str(m.Key); !strings.HasPrefix(k, `{"schema"`) {
		t.Errorf("key should keep its schema section: %s", k)
	}
}
