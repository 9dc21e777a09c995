package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// proxy forwards TCP connections from a loopback port to a target address,
// so that the harness can cut every live connection at once: the fault a
// network partition or a load balancer's idle timeout causes. It is safe
// for concurrent use; Close stops it and waits for its goroutines.
type proxy struct {
	name   string
	target string
	ln     net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	cuts   int // connections closed by cut
	wg     sync.WaitGroup
}

// newProxy listens on a free loopback port and forwards to target.
func newProxy(name, target string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy %s: listen: %w", name, err)
	}
	p := &proxy{name: name, target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	return p, nil
}

// addr is the address clients dial.
func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.wg.Go(func() { p.forward(c) })
	}
}

// forward dials the target for client c and copies both ways until either
// side closes or cut closes both.
func (p *proxy) forward(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		// The target is down. A reset, as close to a refused connection
		// as an accepted one can come: an orderly close would look to a
		// Kafka client like a broker that wants TLS.
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
		return
	}
	if !p.track(c, up) {
		c.Close()
		up.Close()
		return
	}
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			c.Close()
			up.Close()
			p.untrack(c, up)
		})
	}
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(up, c); closeBoth() })
	wg.Go(func() { _, _ = io.Copy(c, up); closeBoth() })
	wg.Wait()
}

func (p *proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
	}
}

// cut closes every live connection, both sides, and returns how many
// client connections it closed. New connections are accepted as before.
func (p *proxy) cut() int {
	p.mu.Lock()
	cs := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		cs = append(cs, c)
	}
	p.mu.Unlock()
	for _, c := range cs {
		// A reset, as a middlebox dropping the connection sends, rather
		// than an orderly FIN.
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}
	p.mu.Lock()
	p.cuts += len(cs) / 2
	p.mu.Unlock()
	return len(cs) / 2
}

// close stops accepting, cuts every connection and waits for the
// forwarding goroutines.
func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.cut()
	p.wg.Wait()
}
