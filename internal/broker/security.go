package broker

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// SASL mechanisms the broker accepts, with Kafka's names.
const (
	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
)

// EnvSASLUsers is the environment variable that may hold the broker's SASL
// users, in the users file's format, instead of a file.
const EnvSASLUsers = "PGMOTION_BROKER_SASL_USERS"

// SASLUser is one user the broker authenticates.
type SASLUser struct {
	Mechanism string // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	User      string
	Password  string
}

// String names the user and mechanism, never the password.
func (u SASLUser) String() string { return u.Mechanism + ":" + u.User }

// ParseSASLUsers reads users, one "MECHANISM:USER:PASSWORD" a line; the
// password is the rest of the line, colons included. Blank lines and lines
// starting with # are skipped. source names the input in errors, which never
// quote a password.
func ParseSASLUsers(r io.Reader, source string) ([]SASLUser, error) {
	var users []SASLUser
	seen := map[[2]string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		mech, rest, ok1 := strings.Cut(line, ":")
		user, pass, ok2 := strings.Cut(rest, ":")
		mech = strings.ToUpper(strings.TrimSpace(mech))
		switch {
		case !ok1 || !ok2:
			return nil, fmt.Errorf("%s line %d: want MECHANISM:USER:PASSWORD, such as SCRAM-SHA-512:alice:secret", source, n)
		case mech != MechanismPlain && mech != MechanismScramSHA256 && mech != MechanismScramSHA512:
			return nil, fmt.Errorf("%s line %d: mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", source, n, mech)
		case user == "" || strings.TrimSpace(user) != user:
			return nil, fmt.Errorf("%s line %d: the user name is empty or has surrounding spaces", source, n)
		case pass == "":
			return nil, fmt.Errorf("%s line %d: user %q has an empty password", source, n, user)
		case seen[[2]string{mech, user}]:
			return nil, fmt.Errorf("%s line %d: user %q is listed twice for %s", source, n, user, mech)
		}
		seen[[2]string{mech, user}] = true
		users = append(users, SASLUser{Mechanism: mech, User: user, Password: pass})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", source, err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%s lists no users: add MECHANISM:USER:PASSWORD lines", source)
	}
	return users, nil
}

// LoadSASLUsers reads the users from path, or, when path is empty, from the
// environment variable EnvSASLUsers (getenv is os.Getenv in production). It
// returns nil, nil when neither is set.
func LoadSASLUsers(path string, getenv func(string) string) ([]SASLUser, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("SASL users file: %w", err)
		}
		return ParseSASLUsers(bytes.NewReader(b), "SASL users file "+path)
	}
	if v := getenv(EnvSASLUsers); v != "" {
		return ParseSASLUsers(strings.NewReader(v), EnvSASLUsers)
	}
	return nil, nil
}

// loadTLS reads a PEM certificate chain and key for the listener.
func loadTLS(certFile, keyFile string) (*tls.Config, *x509.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("broker TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, nil, fmt.Errorf("broker TLS certificate %s: %w", certFile, err)
		}
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, leaf, nil
}

// ClientOpts returns the franz-go options a client in this process needs to
// reach the broker once it is ready: TLS that trusts exactly the broker's
// certificate, whatever host name it names, and SASL as the first configured
// user. It returns nil for a plaintext broker without SASL.
func (b *Broker) ClientOpts() []kgo.Opt {
	b.mu.Lock()
	defer b.mu.Unlock()
	var opts []kgo.Opt
	if b.leaf != nil {
		leaf := b.leaf
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{
			MinVersion: tls.VersionTLS12,
			// The certificate is pinned below instead: the worker
			// dials the advertised address, which the certificate
			// need not name.
			InsecureSkipVerify: true, //nolint:gosec // pinned in VerifyConnection
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 || !cs.PeerCertificates[0].Equal(leaf) {
					return errors.New("the embedded broker presented another certificate than its own")
				}
				return nil
			},
		}))
	}
	if len(b.opts.SASLUsers) > 0 {
		opts = append(opts, kgo.SASL(mechanism(b.opts.SASLUsers[0])))
	}
	return opts
}

func mechanism(u SASLUser) sasl.Mechanism {
	switch u.Mechanism {
	case MechanismPlain:
		return plain.Auth{User: u.User, Pass: u.Password}.AsMechanism()
	case MechanismScramSHA256:
		return scram.Auth{User: u.User, Pass: u.Password}.AsSha256Mechanism()
	default:
		return scram.Auth{User: u.User, Pass: u.Password}.AsSha512Mechanism()
	}
}
