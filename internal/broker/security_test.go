package broker_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/pgmotion/pgmotion/internal/broker"
)

// testCerts is a throwaway CA and a server certificate it signed for
// 127.0.0.1 and localhost, as PEM files in a temporary directory.
type testCerts struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
}

func newTestCerts(t testing.TB) testCerts {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "pgmotion test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := testCerts{
		caFile:   filepath.Join(dir, "ca.pem"),
		certFile: filepath.Join(dir, "broker.pem"),
		keyFile:  filepath.Join(dir, "broker-key.pem"),
		pool:     x509.NewCertPool(),
	}
	c.pool.AddCert(ca)
	for path, block := range map[string]*pem.Block{
		c.caFile:   {Type: "CERTIFICATE", Bytes: caDER},
		c.certFile: {Type: "CERTIFICATE", Bytes: der},
		c.keyFile:  {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// The users of the secured broker tests, one per mechanism.
var testUsers = []broker.SASLUser{
	{Mechanism: broker.MechanismScramSHA512, User: "connect", Password: "s3cret:with:colons"},
	{Mechanism: broker.MechanismScramSHA256, User: "reader", Password: "r3ader"},
	{Mechanism: broker.MechanismPlain, User: "plain", Password: "pl4in"},
}

func saslMechanism(u broker.SASLUser) sasl.Mechanism {
	switch u.Mechanism {
	case broker.MechanismPlain:
		return plain.Auth{User: u.User, Pass: u.Password}.AsMechanism()
	case broker.MechanismScramSHA256:
		return scram.Auth{User: u.User, Pass: u.Password}.AsSha256Mechanism()
	default:
		return scram.Auth{User: u.User, Pass: u.Password}.AsSha512Mechanism()
	}
}

func tlsOpt(c testCerts) kgo.Opt {
	return kgo.DialTLSConfig(&tls.Config{RootCAs: c.pool, MinVersion: tls.VersionTLS12})
}

// kcatSecured returns kcat's arguments for SASL_SSL as u.
func kcatSecured(c testCerts, u broker.SASLUser) []string {
	return []string{"-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=" + u.Mechanism,
		"-X", "sasl.username=" + u.User, "-X", "sasl.password=" + u.Password, "-X", "ssl.ca.location=" + c.caFile}
}

// TestSASLOverTLS is issue 14's "pgmotion broker with SASL over TLS": kcat
// (librdkafka) and kgo authenticate with each mechanism, produce and
// consume; clients without credentials, or with a wrong password, are
// refused.
func TestSASLOverTLS(t *testing.T) {
	kc := requireKcat(t)
	certs := newTestCerts(t)
	b := startBroker(t, broker.Options{DataDir: t.TempDir(), TLSCertFile: certs.certFile, TLSKeyFile: certs.keyFile, SASLUsers: testUsers})
	addr := b.Addr()

	for _, u := range testUsers {
		t.Run("kcat "+u.Mechanism, func(t *testing.T) {
			const n = 50
			topic := "kcat-" + strings.ToLower(u.Mechanism)
			var in strings.Builder
			for i := range n {
				fmt.Fprintf(&in, "%s\t%s\n", testKey(i), testValue(i))
			}
			sec := kcatSecured(certs, u)
			kcat(t, kc, in.String(), append([]string{"-b", addr, "-P", "-t", topic, "-K", "\t"}, sec...)...)
			// kgo reads what kcat wrote, and kcat reads it back too.
			checkKeyed(t, consumeAll(t, addr, topic, n, tlsOpt(certs), kgo.SASL(saslMechanism(u))), 0)
			out := kcat(t, kc, "", append([]string{"-b", addr, "-C", "-t", topic, "-o", "beginning", "-e", "-f", `%k %s\n`}, sec...)...)
			var want strings.Builder
			for i := range n {
				fmt.Fprintf(&want, "%s %s\n", testKey(i), testValue(i))
			}
			if out != want.String() {
				t.Errorf("kcat -C read:\n%s\nwant:\n%s", out, want.String())
			}
		})
		t.Run("kgo "+u.Mechanism, func(t *testing.T) {
			const n = 100
			topic := "kgo-" + strings.ToLower(u.Mechanism)
			produceKeyed(t, newClient(t, addr, tlsOpt(certs), kgo.SASL(saslMechanism(u)), kgo.AllowAutoTopicCreation()), topic, 0, n)
			checkKeyed(t, consumeAll(t, addr, topic, n, tlsOpt(certs), kgo.SASL(saslMechanism(u))), 0)
		})
	}

	t.Run("the broker's own client options", func(t *testing.T) {
		const n = 10
		produceKeyed(t, newClient(t, addr, append(b.ClientOpts(), kgo.AllowAutoTopicCreation())...), "own", 0, n)
		checkKeyed(t, consumeAll(t, addr, "own", n, b.ClientOpts()...), 0)
	})

	refused := func(t *testing.T, opts ...kgo.Opt) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cl := newClient(t, addr, append(opts, kgo.RetryTimeout(2*time.Second))...)
		if _, err := kadm.NewClient(cl).ListTopics(ctx); err == nil {
			t.Fatal("listed topics without valid credentials")
		}
	}
	t.Run("kgo without credentials is refused", func(t *testing.T) {
		refused(t, tlsOpt(certs))
	})
	t.Run("kgo with a wrong password is refused", func(t *testing.T) {
		u := testUsers[0]
		u.Password = "wrong"
		refused(t, tlsOpt(certs), kgo.SASL(saslMechanism(u)))
	})
	t.Run("kgo without TLS is refused", func(t *testing.T) {
		refused(t, kgo.SASL(saslMechanism(testUsers[0])))
	})
	t.Run("a raw request before authenticating closes the connection", func(t *testing.T) {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: certs.pool, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(1)
		frame := append([]byte{0, 0, 0, 0, 0, 3, 0, 1, 0, 0, 0, 7, 0xff, 0xff}, req.AppendTo(nil)...)
		frame[3] = byte(len(frame) - 4)
		if _, err := conn.Write(frame); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, err := conn.Read(make([]byte, 64)); err == nil {
			t.Fatalf("got %d bytes of an answer to Metadata before SASL", n)
		}
	})
	for _, u := range []broker.SASLUser{testUsers[0], testUsers[2]} {
		t.Run("kcat without the right password is refused "+u.Mechanism, func(t *testing.T) {
			u.Password = "wrong"
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, kc, append([]string{"-b", addr, "-L", "-m", "5"}, kcatSecured(certs, u)...)...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("kcat -L with a wrong password succeeded:\n%s", out)
			}
			if !strings.Contains(string(out), "Authentication") && !strings.Contains(string(out), "authentication") {
				t.Errorf("kcat's error does not say authentication failed:\n%s", out)
			}
		})
	}
}
