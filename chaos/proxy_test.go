package main

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// TestProxyCut forwards through the proxy, cuts, and checks that the cut
// connection is closed and a new one works.
func TestProxyCut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close() }() // echo
		}
	}()
	p, err := newProxy("test", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()

	echo := func(c net.Conn, msg string) error {
		if _, err := c.Write([]byte(msg + "\n")); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := bufio.NewReader(c).ReadString('\n')
		if err == nil && got != msg+"\n" {
			t.Errorf("echo = %q, want %q", got, msg)
		}
		return err
	}
	c1, err := net.Dial("tcp", p.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	if err := echo(c1, "before"); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	if n := p.cut(); n != 1 {
		t.Errorf("cut closed %d connections, want 1", n)
	}
	if err := echo(c1, "after"); err == nil {
		t.Error("the cut connection still echoes")
	}
	c2, err := net.Dial("tcp", p.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := echo(c2, "again"); err != nil {
		t.Errorf("a new connection after the cut: %v", err)
	}
}
