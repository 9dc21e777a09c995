// Package kctest makes what tests of Kafka client security need: a test
// CA with server and client certificates, and an in-process
// Kafka-protocol broker (franz-go's kfake) that requires TLS and SASL.
package kctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// CA is a throwaway certificate authority.
type CA struct {
	Cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	PEM     []byte // the CA certificate
	Pool    *x509.CertPool
	serials atomic.Int64
}

// NewCA makes a CA named cn.
func NewCA(t testing.TB, cn string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	ca := &CA{Cert: c, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), Pool: x509.NewCertPool()}
	ca.Pool.AddCert(c)
	ca.serials.Store(1)
	return ca
}

// Leaf is a certificate the CA issued, with its key.
type Leaf struct {
	TLS     tls.Certificate
	CertPEM []byte // the certificate, then the CA's
	KeyPEM  []byte // PKCS#8
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
}

// Issue makes a certificate for cn, valid for hosts (names or IPs), for a
// server or a client.
func (ca *CA) Issue(t testing.TB, cn string, client bool, hosts ...string) *Leaf {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serials.Add(1)), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	l := &Leaf{Cert: c, Key: key,
		CertPEM: append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), ca.PEM...),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})}
	l.TLS = tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key, Leaf: c}
	return l
}

// WriteFile writes data into dir/name and returns its path.
func WriteFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Broker is an in-process kfake cluster of one broker.
type Broker struct {
	*kfake.Cluster
	Addr string
	CA   *CA
}

// BrokerOptions says how the broker is secured.
type BrokerOptions struct {
	// Users are SASL users: mechanism (PLAIN, SCRAM-SHA-256,
	// SCRAM-SHA-512) → user → password. None: no SASL.
	Users map[string]map[string]string
	// TLS serves TLS with a certificate from CA for 127.0.0.1 and
	// localhost.
	TLS bool
	// ClientCA, if set, requires client certificates signed by it.
	ClientCA *CA
	// CertHosts are the names in the broker's certificate; default
	// 127.0.0.1 and localhost.
	CertHosts []string
}

// StartBroker starts a broker secured as o says, closed at the end of the
// test.
func StartBroker(t testing.TB, o BrokerOptions) *Broker {
	t.Helper()
	b := &Broker{}
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation()}
	first := true
	for mech, users := range o.Users {
		for u, p := range users {
			if first {
				opts = append(opts, kfake.EnableSASL())
				first = false
			}
			opts = append(opts, kfake.Superuser(mech, u, p))
		}
	}
	if o.TLS || o.ClientCA != nil {
		b.CA = NewCA(t, "kctest CA")
		hosts := o.CertHosts
		if len(hosts) == 0 {
			hosts = []string{"127.0.0.1", "localhost"}
		}
		leaf := b.CA.Issue(t, "kfake", false, hosts...)
		cfg := &tls.Config{Certificates: []tls.Certificate{leaf.TLS}, MinVersion: tls.VersionTLS12}
		if o.ClientCA != nil {
			cfg.ClientCAs = o.ClientCA.Pool
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
		opts = append(opts, kfake.TLS(cfg))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	b.Cluster = c
	b.Addr = c.ListenAddrs()[0]
	return b
}

// Recorder is a TCP listener that records every connection made to it and
// the first bytes each sent, to prove a client sent nothing in plaintext.
type Recorder struct {
	ln    net.Listener
	mu    sync.Mutex
	first [][]byte
	wg    sync.WaitGroup
}

// Listen starts a Recorder on a loopback port; it closes at the end of the
// test.
func Listen(t testing.TB) *Recorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Recorder{ln: ln}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 512)
			n, _ := c.Read(buf)
			c.Close()
			r.mu.Lock()
			r.first = append(r.first, buf[:n])
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { ln.Close(); r.wg.Wait() })
	return r
}

// Addr is the listener's host:port.
func (r *Recorder) Addr() string { return r.ln.Addr().String() }

// Connections returns the first bytes of each connection so far.
func (r *Recorder) Connections() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.first...)
}

// IsTLSClientHello reports whether b starts a TLS handshake record holding
// a ClientHello.
func IsTLSClientHello(b []byte) bool {
	return len(b) >= 6 && b[0] == 0x16 && b[1] == 0x03 && b[5] == 0x01
}
