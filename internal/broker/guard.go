package broker

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// kfake reads each request by allocating the size its 4-byte prefix
// announces, so 0xffffffff costs 4 GiB. It also answers a few requests with
// things that are not true of this broker. guardListener sits between the
// socket (and TLS, which we terminate ourselves for this reason) and kfake,
// and on each connection:
//
//   - checks every request's size prefix before kfake sees its last byte,
//     closing the connection, as Kafka does, when it exceeds
//     socket.request.max.bytes (or sasl.server.max.receive.size before a
//     SASL client has authenticated);
//   - notes each request's key, version and correlation ID from its first
//     bytes as they pass, without copying the body;
//   - rewrites the few responses that need it, each written by kfake in one
//     Write: SaslHandshake advertised from v0 as Kafka does (librdkafka
//     decides from v0 whether the broker supports the handshake at all), no
//     rack (kfake says "krack"), default.replication.factor 1 and the real
//     log.dir (kfake says 3 and /mem/kfake).

const (
	// DefaultSocketRequestMaxBytes is Kafka's socket.request.max.bytes.
	DefaultSocketRequestMaxBytes = 104857600
	// DefaultMessageMaxBytes is Kafka's message.max.bytes, which kfake
	// also applies when none is configured.
	DefaultMessageMaxBytes = 1048588
	// saslMaxReceiveSize is Kafka's sasl.server.max.receive.size: the
	// largest request before authentication.
	saslMaxReceiveSize = 524288

	kfakeLogDir = "/mem/kfake"
	// maxPending bounds the requests remembered per connection. kfake
	// answers one request at a time and reads one ahead, so only
	// acks=0 produce requests, which get no answer, pile up here.
	maxPending = 16
)

type guard struct {
	maxRequest int
	sasl       bool
	logDir     string // reported log.dir
	log        *slog.Logger
}

type guardListener struct {
	net.Listener
	g *guard
}

func (l guardListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &guardConn{Conn: c, g: l.g}, nil
}

type reqHeader struct {
	key, version int16
	corr         int32
}

type guardConn struct {
	net.Conn
	g *guard

	// Read side, used only by kfake's reading goroutine.
	head [12]byte // size, then key, version, correlation ID
	hn   int      // bytes of the size prefix seen; 4 once inside a body
	size int      // body size of the current request
	pos  int      // bytes of the body seen

	authed atomic.Bool // SASL done: the full request size applies

	mu      sync.Mutex
	pending []reqHeader // requests not yet answered, oldest first
}

func (c *guardConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		if ferr := c.scan(p[:n]); ferr != nil {
			c.Conn.Close()
			return 0, ferr
		}
	}
	return n, err
}

// scan follows the request framing through b, the bytes just read.
func (c *guardConn) scan(b []byte) error {
	for len(b) > 0 {
		if c.hn < 4 {
			k := copy(c.head[c.hn:4], b)
			c.hn += k
			b = b[k:]
			if c.hn < 4 {
				continue
			}
			size := int32(binary.BigEndian.Uint32(c.head[:4]))
			if err := c.checkSize(size); err != nil {
				return err
			}
			c.size, c.pos = int(size), 0
		} else {
			k := min(len(b), c.size-c.pos)
			if c.pos < 8 {
				copy(c.head[4+c.pos:], b[:k])
				if c.pos+k >= 8 {
					c.note(reqHeader{
						key:     int16(binary.BigEndian.Uint16(c.head[4:])),
						version: int16(binary.BigEndian.Uint16(c.head[6:])),
						corr:    int32(binary.BigEndian.Uint32(c.head[8:])),
					})
				}
			}
			c.pos += k
			b = b[k:]
		}
		if c.pos == c.size {
			c.hn = 0
		}
	}
	return nil
}

func (c *guardConn) checkSize(size int32) error {
	limit, name := c.g.maxRequest, "socket.request.max.bytes"
	if c.g.sasl && !c.authed.Load() && saslMaxReceiveSize < limit {
		limit, name = saslMaxReceiveSize, "sasl.server.max.receive.size"
	}
	if size >= 0 && int(size) <= limit {
		return nil
	}
	err := fmt.Errorf("request of %d bytes is larger than %s %d", uint32(size), name, limit)
	c.g.log.Warn("closing connection: "+err.Error(), "remote", c.RemoteAddr().String())
	return err
}

func (c *guardConn) note(h reqHeader) {
	c.mu.Lock()
	if len(c.pending) == maxPending {
		c.pending = append(c.pending[:0], c.pending[1:]...)
	}
	c.pending = append(c.pending, h)
	c.mu.Unlock()
}

// answered returns the request the response with corr answers, forgetting
// it and any older request that got no answer.
func (c *guardConn) answered(corr int32) (reqHeader, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, h := range c.pending {
		if h.corr == corr {
			c.pending = append(c.pending[:0], c.pending[i+1:]...)
			return h, true
		}
	}
	return reqHeader{}, false
}

func (c *guardConn) Write(p []byte) (int, error) {
	if len(p) < 8 || int(binary.BigEndian.Uint32(p)) != len(p)-4 {
		return c.Conn.Write(p) // not one whole response: leave it
	}
	h, ok := c.answered(int32(binary.BigEndian.Uint32(p[4:])))
	if !ok {
		return c.Conn.Write(p)
	}
	out := c.rewrite(h, p)
	if out == nil {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// rewrite returns the response frame p to request h as it should read, or
// nil to send p as it is.
func (c *guardConn) rewrite(h reqHeader, p []byte) []byte {
	switch kmsg.Key(h.key) {
	case kmsg.ApiVersions:
		if !c.g.sasl {
			return nil
		}
	case kmsg.SASLAuthenticate:
		c.noteAuth(h, p)
		return nil
	case kmsg.Metadata, kmsg.DescribeCluster, kmsg.DescribeConfigs, kmsg.DescribeLogDirs:
	default:
		return nil
	}
	resp := kmsg.ResponseForKey(h.key)
	resp.SetVersion(h.version)
	off := 8
	if resp.IsFlexible() && h.key != int16(kmsg.ApiVersions) {
		off = 9 // the response header's tagged fields
	}
	if resp.ReadFrom(p[off:]) != nil || !c.g.fix(resp) {
		return nil
	}
	out := resp.AppendTo(append(make([]byte, 0, len(p)+256), p[:off]...))
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out
}

// noteAuth lifts the pre-authentication size limit once a SASL exchange has
// completed: kfake answers a failed step by closing the connection, so an
// answer is a success, and the last one for PLAIN and SCRAM alike is any
// but SCRAM's server-first message, which starts "r=".
func (c *guardConn) noteAuth(h reqHeader, p []byte) {
	resp := kmsg.NewPtrSASLAuthenticateResponse()
	resp.SetVersion(h.version)
	off := 8
	if resp.IsFlexible() {
		off = 9
	}
	if resp.ReadFrom(p[off:]) == nil && resp.ErrorCode == 0 && !bytes.HasPrefix(resp.SASLAuthBytes, []byte("r=")) {
		c.authed.Store(true)
	}
}

// fix corrects resp in place and reports whether it changed anything.
func (g *guard) fix(resp kmsg.Response) bool {
	changed := false
	switch r := resp.(type) {
	case *kmsg.ApiVersionsResponse:
		for i := range r.ApiKeys {
			if k := &r.ApiKeys[i]; r.ErrorCode == 0 && k.ApiKey == int16(kmsg.SASLHandshake) && k.MinVersion == 1 {
				k.MinVersion, changed = 0, true
			}
		}
	case *kmsg.MetadataResponse:
		for i := range r.Brokers {
			changed = changed || r.Brokers[i].Rack != nil
			r.Brokers[i].Rack = nil
		}
	case *kmsg.DescribeClusterResponse:
		for i := range r.Brokers {
			changed = changed || r.Brokers[i].Rack != nil
			r.Brokers[i].Rack = nil
		}
	case *kmsg.DescribeLogDirsResponse:
		for i := range r.Dirs {
			if r.Dirs[i].Dir == kfakeLogDir {
				r.Dirs[i].Dir, changed = g.logDir, true
			}
		}
	case *kmsg.DescribeConfigsResponse:
		for i := range r.Resources {
			if r.Resources[i].ResourceType != kmsg.ConfigResourceTypeBroker {
				continue
			}
			for j := range r.Resources[i].Configs {
				cfg := &r.Resources[i].Configs[j]
				if g.fixConfig(cfg.Name, &cfg.Value) {
					changed = true
				}
				for k := range cfg.ConfigSynonyms {
					if g.fixConfig(cfg.ConfigSynonyms[k].Name, &cfg.ConfigSynonyms[k].Value) {
						changed = true
					}
				}
			}
		}
	}
	return changed
}

// fixConfig corrects the value of the broker config name where kfake's is
// not this broker's.
func (g *guard) fixConfig(name string, v **string) bool {
	var want *string
	switch name {
	case "default.replication.factor":
		if *v == nil || **v != "3" {
			return false
		}
		one := "1"
		want = &one
	case "log.dir":
		if *v == nil || **v != kfakeLogDir {
			return false
		}
		dir := g.logDir
		want = &dir
	case "broker.rack":
		if *v == nil {
			return false
		}
	default:
		return false
	}
	*v = want
	return true
}
