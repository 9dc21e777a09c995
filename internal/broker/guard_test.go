package broker_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pgmotion/pgmotion/internal/broker"
)

// apiVersionsFrame is an ApiVersions v0 request, which every broker answers
// before authentication.
func apiVersionsFrame(corr int32) []byte {
	b := []byte{0, 0, 0, 0, 0, 18, 0, 0}
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	b = append(b, 0xff, 0xff) // null client ID
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// closedWithin reports whether the server closes conn within d, reading and
// discarding whatever it sends first.
func closedWithin(conn net.Conn, d time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	return err == nil || !(errorAs(err, &ne) && ne.Timeout())
}

func errorAs(err error, ne *net.Error) bool {
	e, ok := err.(net.Error)
	if ok {
		*ne = e
	}
	return ok
}

func TestRequestSizeCap(t *testing.T) {
	const limit = 2 << 20
	b := startBroker(t, broker.Options{SocketRequestMaxBytes: limit})
	announce := func(t *testing.T, size uint32) net.Conn {
		t.Helper()
		conn, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		// A good request first: the connection is served until the
		// oversized one.
		if _, err := conn.Write(apiVersionsFrame(1)); err != nil {
			t.Fatal(err)
		}
		var hdr [8]byte
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			t.Fatalf("ApiVersions: %v", err)
		}
		if _, err := io.CopyN(io.Discard, conn, int64(binary.BigEndian.Uint32(hdr[:]))-4); err != nil {
			t.Fatal(err)
		}
		var size4 [4]byte
		binary.BigEndian.PutUint32(size4[:], size)
		if _, err := conn.Write(size4[:]); err != nil {
			t.Fatal(err)
		}
		return conn
	}
	for _, size := range []uint32{0xffffffff, 0x80000000, limit + 1} {
		if !closedWithin(announce(t, size), 10*time.Second) {
			t.Errorf("a request announced as %d bytes did not close the connection", size)
		}
	}
	// At the limit, the broker waits for the request's bytes.
	if closedWithin(announce(t, limit), time.Second) {
		t.Errorf("a request of exactly socket.request.max.bytes closed the connection")
	}
	// Records near the limit still go through.
	cl := newClient(t, b.Addr(), kgo.AllowAutoTopicCreation(), kgo.ProducerBatchMaxBytes(limit-1024), kgo.MaxBufferedBytes(8<<20))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "big", Value: bytes.Repeat([]byte("x"), limit/2)}).FirstErr(); err != nil {
		t.Fatalf("produce a %d-byte record: %v", limit/2, err)
	}
}

// Before a SASL client has authenticated, Kafka accepts 512 KiB
// (sasl.server.max.receive.size); after, the full size.
func TestRequestSizeCapBeforeSASL(t *testing.T) {
	users := []broker.SASLUser{{Mechanism: broker.MechanismScramSHA256, User: "u", Password: "p"}}
	b := startBroker(t, broker.Options{SASLUsers: users, MessageMaxBytes: 4 << 20})
	conn, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte{0, 0x08, 0, 1}); err != nil { // 512 KiB + 1
		t.Fatal(err)
	}
	if !closedWithin(conn, 10*time.Second) {
		t.Errorf("an unauthenticated request of 512 KiB + 1 did not close the connection")
	}

	// Authenticated, a produce request of 3 MiB is served: kgo sends it as
	// the first request after SASL on its produce connection.
	opts := append(b.ClientOpts(), kgo.AllowAutoTopicCreation(), kgo.ProducerBatchMaxBytes(4<<20), kgo.MaxBufferedBytes(16<<20))
	cl := newClient(t, b.Addr(), opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "big", Value: bytes.Repeat([]byte("y"), 3<<20)}).FirstErr(); err != nil {
		t.Fatalf("produce a 3 MiB record after SASL: %v", err)
	}
}

// Issue 11 point 6: the broker reports what is true of it.
func TestBrokerConfigs(t *testing.T) {
	kc := requireKcat(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name, dataDir, logDir string
	}{
		{"data dir", dir, dir},
		{"in memory", "", "(in memory)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startBroker(t, broker.Options{DataDir: tc.dataDir})
			cl := newClient(t, b.Addr())
			adm := kadm.NewClient(cl)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rcs, err := adm.DescribeBrokerConfigs(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]*string{}
			for _, rc := range rcs {
				for _, c := range rc.Configs {
					got[c.Key] = c.Value
					for _, s := range c.Synonyms {
						if s.Key == c.Key && str(s.Value) != str(c.Value) {
							t.Errorf("%s: synonym from %v says %q, config says %q", c.Key, s.Source, str(s.Value), str(c.Value))
						}
					}
				}
			}
			for key, want := range map[string]string{"default.replication.factor": "1", "log.dir": tc.logDir} {
				if v, ok := got[key]; !ok || str(v) != want {
					t.Errorf("%s = %q (present %v), want %q", key, str(v), ok, want)
				}
			}
			if v := got["broker.rack"]; v != nil {
				t.Errorf("broker.rack = %q, want none", *v)
			}

			md, err := adm.BrokerMetadata(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, br := range md.Brokers {
				if br.Rack != nil {
					t.Errorf("metadata: broker %d in rack %q, want none", br.NodeID, *br.Rack)
				}
			}
			req := kmsg.NewPtrDescribeClusterRequest()
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			for _, br := range resp.Brokers {
				if br.Rack != nil {
					t.Errorf("describe cluster: broker %d in rack %q, want none", br.NodeID, *br.Rack)
				}
			}

			// A replication factor of 1 is what it says, and works.
			if _, err := adm.CreateTopic(ctx, 1, 1, nil, "rf1"); err != nil {
				t.Fatalf("create topic with RF 1: %v", err)
			}
			if tc.dataDir != "" {
				dirs, err := adm.DescribeAllLogDirs(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				dirs.Each(func(d kadm.DescribedLogDir) {
					if d.Dir != tc.logDir {
						t.Errorf("log dir %q, want %q", d.Dir, tc.logDir)
					}
				})
			}
			out := kcat(t, kc, "", "-b", b.Addr(), "-L")
			if strings.Contains(out, "krack") {
				t.Errorf("kcat -L shows kfake's rack:\n%s", out)
			}
		})
	}
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// Users come from the broker's options alone: a client cannot add or change
// one, and no password stays in the data directory.
func TestSASLUsersAreTheBrokers(t *testing.T) {
	dir := t.TempDir()
	users := []broker.SASLUser{
		{Mechanism: broker.MechanismPlain, User: "admin", Password: "plain-secret-7d1e"},
		{Mechanism: broker.MechanismScramSHA512, User: "app", Password: "scram-secret-93ab"},
	}
	b := startBroker(t, broker.Options{DataDir: dir, SASLUsers: users})
	cl := newClient(t, b.Addr(), append(b.ClientOpts(), kgo.AllowAutoTopicCreation())...)
	produceKeyed(t, cl, "t", 0, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	up := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
	up.Name, up.Mechanism, up.Iterations = "intruder", 1, 4096
	up.Salt, up.SaltedPassword = []byte("salt"), bytes.Repeat([]byte{1}, 32)
	req.Upsertions = append(req.Upsertions, up)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 1 || resp.Results[0].ErrorCode == 0 {
		t.Errorf("AlterUserSCRAMCredentials added a user: %+v", resp.Results)
	} else if m := resp.Results[0].ErrorMessage; m == nil || !strings.Contains(*m, "users file") {
		t.Errorf("AlterUserSCRAMCredentials error message %q does not say where users come from", str(m))
	}
	stopBroker(t, b)
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if bytes.Contains(data, []byte(u.Password)) {
				t.Errorf("%s holds the password of %s", path, u)
			}
		}
		return nil
	})

	// A restart with other users: the old ones are gone.
	b = startBroker(t, broker.Options{DataDir: dir, SASLUsers: users[1:]})
	old := newClient(t, b.Addr(), append(b.ClientOpts()[:0:0], kgo.SASL(saslMechanism(users[0])), kgo.RetryTimeout(2*time.Second))...)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if _, err := kadm.NewClient(old).ListTopics(ctx2); err == nil {
		t.Errorf("a user dropped from the options still authenticates after a restart")
	}
	checkKeyed(t, consumeAll(t, b.Addr(), "t", 10, b.ClientOpts()...), 0)
}

func TestParseSASLUsers(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []broker.SASLUser
		err      string
	}{
		{name: "all mechanisms", in: "# users\nPLAIN:a:pa\n\nscram-sha-256:b:p:b\r\nSCRAM-SHA-512:c: spaced \n",
			want: []broker.SASLUser{{Mechanism: "PLAIN", User: "a", Password: "pa"}, {Mechanism: "SCRAM-SHA-256", User: "b", Password: "p:b"}, {Mechanism: "SCRAM-SHA-512", User: "c", Password: " spaced "}}},
		{name: "no password field", in: "PLAIN:a\n", err: "line 1: want MECHANISM:USER:PASSWORD"},
		{name: "mechanism", in: "GSSAPI:a:b\n", err: `line 1: mechanism "GSSAPI"`},
		{name: "empty password", in: "PLAIN:a:\n", err: "empty password"},
		{name: "empty user", in: "PLAIN::x\n", err: "user name is empty"},
		{name: "twice", in: "PLAIN:a:x\nPLAIN:a:y\n", err: "line 2: user \"a\" is listed twice"},
		{name: "none", in: "# nobody\n", err: "lists no users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := broker.ParseSASLUsers(strings.NewReader(tc.in), "users")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "x\n") || strings.Contains(err.Error(), ":y") {
					t.Errorf("error quotes a password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("user %d: got %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
	users, err := broker.LoadSASLUsers("", func(k string) string {
		if k == broker.EnvSASLUsers {
			return "PLAIN:env:pw"
		}
		return ""
	})
	if err != nil || len(users) != 1 || users[0].User != "env" {
		t.Errorf("LoadSASLUsers from the environment: %v, %v", users, err)
	}
}

// A broker that other hosts can reach without authentication says so.
func TestWarnsOpenToOthers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		listen string
		users  []broker.SASLUser
		warn   bool
	}{
		{"loopback", "127.0.0.1:0", nil, false},
		{"every interface", "0.0.0.0:0", nil, true},
		{"every interface with SASL", "0.0.0.0:0", []broker.SASLUser{{Mechanism: broker.MechanismPlain, User: "u", Password: "p"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf syncBuffer
			startBroker(t, broker.Options{Listen: tc.listen, SASLUsers: tc.users, Log: slog.New(slog.NewTextHandler(&buf, nil))})
			if got := strings.Contains(buf.String(), "without authentication"); got != tc.warn {
				t.Errorf("warned %v, want %v:\n%s", got, tc.warn, buf.String())
			}
		})
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
