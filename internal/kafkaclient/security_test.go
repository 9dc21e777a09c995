package kafkaclient_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/pgmotion/pgmotion/internal/kafkaclient"
	"github.com/pgmotion/pgmotion/internal/kafkaclient/kctest"
)

const (
	plainJAAS = `org.apache.kafka.common.security.plain.PlainLoginModule required username="connect" password="s3cret-pw";`
	scramJAAS = `org.apache.kafka.common.security.scram.ScramLoginModule required username="connect" password="s3cret-pw";`
)

func TestParseErrors(t *testing.T) {
	dir := t.TempDir()
	ca := kctest.NewCA(t, "ca")
	caFile := kctest.WriteFile(t, dir, "ca.pem", ca.PEM)
	for _, tc := range []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"protocol", map[string]string{"security.protocol": "TLS"}, `security.protocol: "TLS" is not supported: use PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL`},
		{"gssapi", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "GSSAPI", "sasl.jaas.config": plainJAAS},
			"sasl.mechanism=GSSAPI is not supported: use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER or AWS_MSK_IAM"},
		{"default mechanism", map[string]string{"security.protocol": "SASL_SSL", "sasl.jaas.config": plainJAAS}, "Kafka's default GSSAPI"},
		{"no jaas", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"}, "sasl.jaas.config: is not set"},
		{"bad jaas", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "sasl.jaas.config": `x required username="u" password="s3cret-pw"`},
			"sasl.jaas.config: does not end with ';'"},
		{"module", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
			"sasl.jaas.config": `com.sun.security.auth.module.Krb5LoginModule required;`}, "names the login module com.sun.security.auth.module.Krb5LoginModule"},
		{"no password", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
			"sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="u";`}, "needs both username"},
		{"jaas without sasl", map[string]string{"sasl.jaas.config": plainJAAS}, "sasl.jaas.config: is set, but security.protocol=PLAINTEXT sends no credentials"},
		{"pem password", map[string]string{"security.protocol": "SSL", "ssl.truststore.type": "PEM", "ssl.truststore.location": caFile, "ssl.truststore.password": "x"},
			"ssl.truststore.password: must not be set with ssl.truststore.type=PEM"},
		{"jks default type", map[string]string{"security.protocol": "SSL", "ssl.truststore.location": caFile},
			"is not a JKS keystore, and ssl.truststore.type is JKS (Kafka's default): set ssl.truststore.type to PKCS12 or PEM"},
		{"missing file", map[string]string{"security.protocol": "SSL", "ssl.truststore.type": "PEM", "ssl.truststore.location": dir + "/nope.pem"}, "ssl.truststore.location: open"},
		{"inline needs PEM", map[string]string{"security.protocol": "SSL", "ssl.truststore.certificates": string(ca.PEM)}, "ssl.truststore.certificates: needs ssl.truststore.type=PEM"},
		{"algorithm", map[string]string{"security.protocol": "SSL", "ssl.endpoint.identification.algorithm": "ldap"}, `ssl.endpoint.identification.algorithm: "ldap" is not supported`},
		{"ciphers", map[string]string{"security.protocol": "SSL", "ssl.cipher.suites": "TLS_AES_128_GCM_SHA256"}, "ssl.cipher.suites: is not supported"},
		{"old tls", map[string]string{"security.protocol": "SSL", "ssl.enabled.protocols": "TLSv1.1,TLSv1.2"}, `lists "TLSv1.1"`},
		{"key alone", map[string]string{"security.protocol": "SSL", "ssl.keystore.type": "PEM", "ssl.keystore.key": "-----BEGIN PRIVATE KEY-----"}, "ssl.keystore.key: and ssl.keystore.certificate.chain go together"},
		{"oauth no url", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER",
			"sasl.jaas.config": `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="c" clientSecret="s3cret-pw";`},
			"sasl.oauthbearer.token.endpoint.url: is not set"},
		{"oauth handler", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER", "sasl.oauthbearer.token.endpoint.url": "https://idp/token",
			"sasl.login.callback.handler.class": "com.example.Handler",
			"sasl.jaas.config":                  `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="c" clientSecret="s3cret-pw";`},
			`sasl.login.callback.handler.class: "com.example.Handler" is not supported`},
		{"iam option", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "AWS_MSK_IAM",
			"sasl.jaas.config": `software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn="arn:aws:iam::1:role/x";`}, "option awsRoleArn, which pgmotion does not support"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kafkaclient.Parse(tc.props, "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
	// Errors name the prefix the properties came with.
	_, err := kafkaclient.Parse(map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "GSSAPI"}, "producer.")
	if err == nil || !strings.HasPrefix(err.Error(), "producer.sasl.mechanism=GSSAPI is not supported") {
		t.Fatalf("prefixed error: %v", err)
	}
}

func TestOverridePolicy(t *testing.T) {
	for in, want := range map[string]kafkaclient.OverridePolicy{"": kafkaclient.PolicyAll, "None": kafkaclient.PolicyNone, "principal": kafkaclient.PolicyPrincipal,
		"org.apache.kafka.connect.connector.policy.AllConnectorClientConfigOverridePolicy": kafkaclient.PolicyAll} {
		if got, err := kafkaclient.ParseOverridePolicy(in); err != nil || got != want {
			t.Errorf("ParseOverridePolicy(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := kafkaclient.ParseOverridePolicy("Some"); err == nil {
		t.Error("ParseOverridePolicy(Some) did not fail")
	}
	if !kafkaclient.PolicyPrincipal.Allows("sasl.jaas.config") || kafkaclient.PolicyPrincipal.Allows("ssl.truststore.location") || kafkaclient.PolicyNone.Allows("security.protocol") {
		t.Error("Allows does not follow Kafka's policies")
	}
}

// connectWith checks that a franz-go client with props reaches b and can
// produce; it returns the error of the first metadata request otherwise.
func connectWith(t *testing.T, addr string, props map[string]string) error {
	t.Helper()
	sec, err := kafkaclient.Parse(props, "")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	cl, err := kgo.NewClient(append(sec.Opts(), kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation(), kgo.RequestRetries(1))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).BrokerMetadata(ctx); err != nil {
		return sec.Explain(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr(); err != nil {
		return sec.Explain(err)
	}
	return nil
}

func TestConnectSecured(t *testing.T) {
	users := map[string]map[string]string{"PLAIN": {"connect": "s3cret-pw"}, "SCRAM-SHA-512": {"connect": "s3cret-pw"}, "SCRAM-SHA-256": {"connect": "s3cret-pw"}}
	b := kctest.StartBroker(t, kctest.BrokerOptions{Users: users, TLS: true})
	dir := t.TempDir()
	caFile := kctest.WriteFile(t, dir, "ca.pem", b.CA.PEM)
	base := func(mech, jaas string) map[string]string {
		return map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": mech, "sasl.jaas.config": jaas,
			"ssl.truststore.type": "PEM", "ssl.truststore.location": caFile}
	}
	for _, tc := range []struct {
		name  string
		props map[string]string
	}{
		{"SCRAM-SHA-512", base("SCRAM-SHA-512", scramJAAS)},
		{"SCRAM-SHA-256", base("SCRAM-SHA-256", scramJAAS)},
		{"PLAIN", base("PLAIN", plainJAAS)},
		{"inline CA", map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "sasl.jaas.config": plainJAAS,
			"ssl.truststore.type": "PEM", "ssl.truststore.certificates": string(b.CA.PEM)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := connectWith(t, b.Addr, tc.props); err != nil {
				t.Fatal(err)
			}
		})
	}
	// PKCS12 truststore.
	p12, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{b.CA.Cert}, "changeit")
	if err != nil {
		t.Fatal(err)
	}
	props := base("SCRAM-SHA-512", scramJAAS)
	props["ssl.truststore.type"], props["ssl.truststore.location"], props["ssl.truststore.password"] = "PKCS12", kctest.WriteFile(t, dir, "trust.p12", p12), "changeit"
	if err := connectWith(t, b.Addr, props); err != nil {
		t.Fatalf("PKCS12 truststore: %v", err)
	}

	// The failures: one line naming the property to fix, no secret.
	wrong := base("SCRAM-SHA-512", strings.Replace(scramJAAS, "s3cret-pw", "wrong-pw", 1))
	otherCA := kctest.NewCA(t, "other")
	untrusted := base("PLAIN", plainJAAS)
	untrusted["ssl.truststore.location"] = kctest.WriteFile(t, dir, "other.pem", otherCA.PEM)
	// A broker whose certificate names another host.
	other := kctest.StartBroker(t, kctest.BrokerOptions{Users: users, TLS: true, CertHosts: []string{"kafka.invalid"}})
	byName := base("PLAIN", plainJAAS)
	byName["ssl.truststore.location"] = kctest.WriteFile(t, dir, "other-broker-ca.pem", other.CA.PEM)
	for _, tc := range []struct {
		name, addr string
		props      map[string]string
		want       string
	}{
		{"wrong password", b.Addr, wrong, "check the user name and password in sasl.jaas.config"},
		{"untrusted CA", b.Addr, untrusted, "is not signed by a CA in ssl.truststore.location"},
		{"host name", other.Addr, byName, "set ssl.endpoint.identification.algorithm= (empty)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := connectWith(t, tc.addr, tc.props)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") ||
				strings.Contains(err.Error(), "pw") {
				t.Fatalf("got %v, want one line containing %q", err, tc.want)
			}
		})
	}
	// An empty ssl.endpoint.identification.algorithm skips the host name
	// check but not the chain.
	byName["ssl.endpoint.identification.algorithm"] = ""
	if err := connectWith(t, other.Addr, byName); err != nil {
		t.Fatalf("without the host name check: %v", err)
	}
	untrusted["ssl.endpoint.identification.algorithm"] = ""
	if err := connectWith(t, b.Addr, untrusted); err == nil || !strings.Contains(err.Error(), "ssl.truststore.location") {
		t.Fatalf("an untrusted CA without the host name check: %v", err)
	}
}

func TestConnectMutualTLS(t *testing.T) {
	clientCA := kctest.NewCA(t, "clients")
	b := kctest.StartBroker(t, kctest.BrokerOptions{TLS: true, ClientCA: clientCA})
	dir := t.TempDir()
	leaf := clientCA.Issue(t, "pgmotion", true)
	props := map[string]string{"security.protocol": "SSL", "ssl.truststore.type": "PEM", "ssl.truststore.location": kctest.WriteFile(t, dir, "ca.pem", b.CA.PEM)}
	if err := connectWith(t, b.Addr, props); err == nil || !strings.Contains(err.Error(), "ssl.keystore.location") {
		t.Fatalf("without a client certificate: %v", err)
	}
	pemKS := map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": kctest.WriteFile(t, dir, "client.pem", append(append([]byte{}, leaf.KeyPEM...), leaf.CertPEM...))}
	inline := map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.key": string(leaf.KeyPEM), "ssl.keystore.certificate.chain": string(leaf.CertPEM)}
	p12, err := pkcs12.Modern.Encode(leaf.Key, leaf.Cert, []*x509.Certificate{clientCA.Cert}, "changeit")
	if err != nil {
		t.Fatal(err)
	}
	p12KS := map[string]string{"ssl.keystore.type": "PKCS12", "ssl.keystore.location": kctest.WriteFile(t, dir, "client.p12", p12), "ssl.keystore.password": "changeit"}
	for name, ks := range map[string]map[string]string{"PEM file": pemKS, "PEM inline": inline, "PKCS12": p12KS} {
		t.Run(name, func(t *testing.T) {
			if err := connectWith(t, b.Addr, kafkaclient.Layer(props, ks)); err != nil {
				t.Fatal(err)
			}
		})
	}
	p12KS["ssl.keystore.password"] = "wrong"
	if _, err := kafkaclient.Parse(kafkaclient.Layer(props, p12KS), ""); err == nil || !strings.Contains(err.Error(), "check ssl.keystore.password") {
		t.Fatalf("wrong keystore password: %v", err)
	}
}

// TLS settings never fall back to plaintext: the first bytes a client
// sends are a TLS ClientHello.
func TestNothingInPlaintext(t *testing.T) {
	rec := kctest.Listen(t)
	ca := kctest.NewCA(t, "ca")
	props := map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "sasl.jaas.config": plainJAAS,
		"ssl.truststore.type": "PEM", "ssl.truststore.certificates": string(ca.PEM)}
	if err := connectWith(t, rec.Addr(), props); err == nil {
		t.Fatal("connected to a listener that speaks no Kafka")
	}
	conns := rec.Connections()
	if len(conns) == 0 {
		t.Fatal("the client never connected")
	}
	for _, c := range conns {
		if !kctest.IsTLSClientHello(c) {
			t.Fatalf("the client sent %q, not a TLS ClientHello", c)
		}
		if strings.Contains(string(c), "s3cret-pw") || strings.Contains(string(c), "connect") {
			t.Fatalf("the credentials went out in plaintext: %q", c)
		}
	}
}

func TestOAuthClientCredentials(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		id, secret, _ := r.BasicAuth()
		if r.Method != http.MethodPost || r.FormValue("grant_type") != "client_credentials" || r.FormValue("scope") != "kafka" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if id != "pgmotion" || secret != "s3cret-pw" {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": "tok-" + rand.Text(), "expires_in": 3600})
	}))
	defer srv.Close()
	jaas := `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="pgmotion" clientSecret="s3cret-pw" scope="kafka";`
	props := map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "OAUTHBEARER", "sasl.jaas.config": jaas,
		"sasl.login.callback.handler.class":   "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
		"sasl.oauthbearer.token.endpoint.url": srv.URL}
	sec, err := kafkaclient.Parse(props, "")
	if err != nil {
		t.Fatal(err)
	}
	if sec.Mechanism != "OAUTHBEARER" || sec.User != "pgmotion" || len(sec.Opts()) != 1 {
		t.Fatalf("Parse = %+v", sec)
	}
	mech := saslOf(t, sec)
	for range 2 {
		_, first, err := mech.Authenticate(context.Background(), "broker:9092")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(first), "auth=Bearer tok-") {
			t.Fatalf("first message %q holds no bearer token", first)
		}
	}
	if calls != 1 {
		t.Fatalf("the token endpoint was called %d times, want 1 (the token is kept until it expires)", calls)
	}
	// A wrong secret names sasl.jaas.config and shows no secret.
	props["sasl.jaas.config"] = strings.Replace(jaas, "s3cret-pw", "wrong-pw", 1)
	sec, err = kafkaclient.Parse(props, "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = saslOf(t, sec).Authenticate(context.Background(), "broker:9092")
	if err == nil || !strings.Contains(err.Error(), "check the client id and secret in sasl.jaas.config") || strings.Contains(err.Error(), "wrong-pw") {
		t.Fatalf("wrong secret: %v", err)
	}
}

func saslOf(t *testing.T, s *kafkaclient.Security) sasl.Mechanism {
	t.Helper()
	m := s.SASL()
	if m == nil {
		t.Fatal("no SASL mechanism")
	}
	return m
}
