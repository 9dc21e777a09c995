package broker

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
)

// kfake advertises whatever its listener's Addr() returns: metadata, find
// coordinator, describe cluster and produce/fetch leader hints all split
// ln.Addr().String() into host and port. It also always asks its listen
// function for "127.0.0.1:<port>". So we bind the socket ourselves and hand
// kfake a listener whose Addr() is the address clients should dial.

// listen binds addr, turning "address already in use" into advice. An IPv4
// literal such as 0.0.0.0 binds IPv4 only, so the bound address reads as the
// user wrote it rather than as Go's dual-stack [::].
func listen(addr string) (net.Listener, error) {
	network := "tcp"
	if host, _, _ := net.SplitHostPort(addr); host != "" {
		if ip := net.ParseIP(host); ip != nil && ip.To4() != nil {
			network = "tcp4"
		}
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("listen %s: %w — is another broker running? pick another with --listen", addr, syscall.EADDRINUSE)
		}
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return ln, nil
}

// advertised returns the host:port clients should dial: adv as given, with
// the bound port when it has none; or, when adv is empty, the bound address,
// with 127.0.0.1 standing in for a wildcard host such as 0.0.0.0.
func advertised(bound net.Addr, listenAddr, adv string) (string, error) {
	bhost, bport, err := net.SplitHostPort(bound.String())
	if err != nil {
		return "", fmt.Errorf("broker: bound address %q: %w", bound, err)
	}
	if adv != "" {
		host, port, err := splitAdvertise(adv)
		if err != nil {
			return "", err
		}
		if port == "" {
			port = bport
		}
		return net.JoinHostPort(host, port), nil
	}
	if lhost, _, _ := net.SplitHostPort(listenAddr); lhost == "" || isUnspecified(lhost) || isUnspecified(bhost) {
		bhost = "127.0.0.1"
	}
	return net.JoinHostPort(bhost, bport), nil
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isUnspecified(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

// oneListener returns a kfake.ListenFn that hands out ln, reporting adv as
// its address, to the first caller; kfake calls it once per broker and we
// run one.
func oneListener(ln net.Listener, adv string) func(network, address string) (net.Listener, error) {
	var once sync.Once
	return func(_, _ string) (net.Listener, error) {
		var out net.Listener
		once.Do(func() { out = advertisedListener{ln, advertisedAddr(adv)} })
		if out == nil {
			return nil, errors.New("broker: kfake asked for a second listener; the embedded broker runs one node")
		}
		return out, nil
	}
}

// advertisedListener is a net.Listener whose Addr is the advertised address
// rather than the bound one.
type advertisedListener struct {
	net.Listener
	addr net.Addr
}

func (l advertisedListener) Addr() net.Addr { return l.addr }

// advertisedAddr is a host:port that may name a host rather than an IP.
type advertisedAddr string

func (advertisedAddr) Network() string  { return "tcp" }
func (a advertisedAddr) String() string { return string(a) }
