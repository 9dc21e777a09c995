package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/pgmotion/pgmotion/internal/kafkaclient"
	"github.com/pgmotion/pgmotion/internal/kafkaclient/kctest"
	"github.com/pgmotion/pgmotion/internal/pgtest"
	"github.com/pgmotion/pgmotion/internal/workerconfig"
)

const e2eKafkaPassword = "connect-s3cret"

// secureBroker starts an in-process Kafka-protocol broker (kfake) that
// requires TLS, and SASL for the users given.
func secureBroker(t *testing.T, users map[string]map[string]string, clientCA *kctest.CA) (*kctest.Broker, string) {
	t.Helper()
	b := kctest.StartBroker(t, kctest.BrokerOptions{Users: users, TLS: true, ClientCA: clientCA})
	return b, kctest.WriteFile(t, t.TempDir(), "ca.pem", b.CA.PEM)
}

// workerFile writes a connect-distributed.properties.
func workerFile(t *testing.T, body string) string {
	t.Helper()
	return kctest.WriteFile(t, t.TempDir(), "connect-distributed.properties", []byte(body))
}

// readSecured reads n records of topic with a franz-go client configured
// from the same worker file, as another Kafka client of the cluster would.
func readSecured(t *testing.T, workerProps, topic string, n int) []*kgo.Record {
	t.Helper()
	wc, err := workerconfig.Load(workerProps)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := kafkaclient.Parse(wc.KafkaClients().Worker, "")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(sec.Opts(), kgo.SeedBrokers(wc.BootstrapServers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: %d records after 60s, want %d", topic, len(got), n)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, r) })
	}
	return got
}

// TestE2EKafkaSecurity streams a connector into a Kafka-protocol broker
// that requires SASL over TLS (SCRAM-SHA-512, then PLAIN) or client
// certificates, with a worker configured by Kafka Connect's own
// properties.
func TestE2EKafkaSecurity(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	users := map[string]map[string]string{"SCRAM-SHA-512": {"connect": e2eKafkaPassword}, "PLAIN": {"connect": e2eKafkaPassword}}

	scram, scramCA := secureBroker(t, users, nil)
	plain, plainCA := secureBroker(t, users, nil)
	clientCA := kctest.NewCA(t, "clients")
	mtls, mtlsCA := secureBroker(t, nil, clientCA)
	leaf := clientCA.Issue(t, "pgmotion-worker", true)
	p12, err := pkcs12.Modern.Encode(leaf.Key, leaf.Cert, nil, "keystore-pw")
	if err != nil {
		t.Fatal(err)
	}
	keystore := kctest.WriteFile(t, t.TempDir(), "worker.p12", p12)

	for i, tc := range []struct {
		name, props string
		logs        string // a line the worker logs
	}{
		{"SCRAM-SHA-512", fmt.Sprintf(`bootstrap.servers=%[1]s
group.id=connect-scram
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
    username="connect" \
    password="%[2]s";
ssl.truststore.type=PEM
ssl.truststore.location=%[3]s
# Kafka Connect needs them repeated for the tasks' producers.
producer.security.protocol=SASL_SSL
producer.sasl.mechanism=SCRAM-SHA-512
producer.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="connect" password="%[2]s";
producer.ssl.truststore.type=PEM
producer.ssl.truststore.location=%[3]s
`, scram.Addr, e2eKafkaPassword, scramCA), ""},
		// Only the top-level settings: the tasks use them too, and the
		// worker says so.
		{"PLAIN", fmt.Sprintf(`bootstrap.servers=%s
group.id=connect-plain
security.protocol=SASL_SSL
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="connect" password="%s";
ssl.truststore.type=PEM
ssl.truststore.location=%s
`, plain.Addr, e2eKafkaPassword, plainCA), "use the worker's security settings that producer.* does not set"},
		{"mTLS", fmt.Sprintf(`bootstrap.servers=%s
group.id=connect-mtls
security.protocol=SSL
ssl.truststore.type=PEM
ssl.truststore.location=%s
ssl.keystore.type=PKCS12
ssl.keystore.location=%s
ssl.keystore.password=keystore-pw
`, mtls.Addr, mtlsCA, keystore), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			props := workerFile(t, tc.props)
			slot := fmt.Sprintf("sec_slot_%d", i)
			prefix := fmt.Sprintf("sec%d", i)
			table := fmt.Sprintf("orders%d", i)
			pgtest.Exec(t, dsn, `CREATE TABLE `+table+` (id int PRIMARY KEY, item text)`)
			conn := connectorFile(t, dsn, "sec-"+strings.ToLower(tc.name), map[string]string{"topic.prefix": prefix, "slot.name": slot,
				"publication.name": "pub_" + slot, "table.include.list": "public." + table})
			p := startPgmotion(t, "connect", "--worker-config", props, "--rest", "127.0.0.1:0", "--data-dir", t.TempDir(), conn)
			waitSlot(t, dsn, slot)
			pgtest.Exec(t, dsn, `INSERT INTO `+table+` VALUES (1, 'book')`)
			recs := readSecured(t, props, prefix+".public."+table, 1)
			if !strings.Contains(string(recs[0].Value), `"item":"book"`) || !strings.Contains(string(recs[0].Value), `"op":"c"`) {
				t.Fatalf("record: %s", recs[0].Value)
			}
			p.stop(t)
			out := p.output()
			if tc.logs != "" && !strings.Contains(out, tc.logs) {
				t.Errorf("the worker did not log %q:\n%s", tc.logs, out)
			}
			for _, secret := range []string{e2eKafkaPassword, "keystore-pw"} {
				if strings.Contains(out, secret) {
					t.Errorf("the worker's output shows a secret:\n%s", out)
				}
			}
		})
	}
}

// TestE2EKafkaSecurityErrors: a wrong password, an untrusted CA and an
// unsupported mechanism each stop the worker with one line naming the
// property to fix, and nothing goes out in plaintext.
func TestE2EKafkaSecurityErrors(t *testing.T) {
	users := map[string]map[string]string{"SCRAM-SHA-512": {"connect": e2eKafkaPassword}}
	b, caFile := secureBroker(t, users, nil)
	other := kctest.NewCA(t, "someone else")
	otherCA := kctest.WriteFile(t, t.TempDir(), "other.pem", other.PEM)
	rec := kctest.Listen(t)
	const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="connect" password="%s";`
	for _, tc := range []struct {
		name, props, want string
	}{
		{"wrong password", fmt.Sprintf("bootstrap.servers=%s\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config="+jaas+"\nssl.truststore.type=PEM\nssl.truststore.location=%s\n",
			b.Addr, "wrong-s3cret", caFile), "check the user name and password in sasl.jaas.config"},
		{"untrusted CA", fmt.Sprintf("bootstrap.servers=%s\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config="+jaas+"\nssl.truststore.type=PEM\nssl.truststore.location=%s\n",
			b.Addr, e2eKafkaPassword, otherCA), "is not signed by a CA in ssl.truststore.location"},
		{"GSSAPI", fmt.Sprintf("bootstrap.servers=%s\nsecurity.protocol=SASL_SSL\nsasl.mechanism=GSSAPI\nsasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;\n", b.Addr),
			"sasl.mechanism=GSSAPI is not supported: use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER or AWS_MSK_IAM"},
		// A listener that records what it gets: only TLS handshakes.
		{"no plaintext", fmt.Sprintf("bootstrap.servers=%s\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config="+jaas+"\nssl.truststore.type=PEM\nssl.truststore.location=%s\n",
			rec.Addr(), e2eKafkaPassword, caFile), "cannot reach Kafka"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startPgmotion(t, "connect", "--worker-config", workerFile(t, tc.props), "--rest", "127.0.0.1:0", "--data-dir", t.TempDir())
			select {
			case err := <-p.done:
				p.done <- err
				if err == nil {
					t.Fatalf("the worker exited cleanly:\n%s", p.output())
				}
			case <-time.After(90 * time.Second):
				t.Fatalf("the worker is still running after 90s:\n%s", p.output())
			}
			var last string
			for _, l := range strings.Split(strings.TrimSpace(p.output()), "\n") {
				if strings.HasPrefix(l, "pgmotion:") {
					last = l
				}
			}
			t.Log(last)
			if !strings.Contains(last, tc.want) {
				t.Fatalf("want one line containing %q; output:\n%s", tc.want, p.output())
			}
			if strings.Contains(p.output(), e2eKafkaPassword) || strings.Contains(p.output(), "wrong-s3cret") {
				t.Fatalf("the output shows the password:\n%s", p.output())
			}
		})
	}
	conns := rec.Connections()
	if len(conns) == 0 {
		t.Fatal("the worker never connected to the recording listener")
	}
	for _, c := range conns {
		if !kctest.IsTLSClientHello(c) {
			t.Fatalf("the worker sent %q, not a TLS ClientHello", c)
		}
	}
}
