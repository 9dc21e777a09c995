package kafkaclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Explain turns a failure to talk to Kafka into one line that names the
// property to fix, when the cause is a security setting: a refused SASL
// login, an untrusted or mismatched broker certificate, a refused client
// certificate, TLS spoken to a plaintext listener. Other errors come back
// as they are. The line holds no secret.
func (s *Security) Explain(err error) error {
	if err == nil || s == nil {
		return err
	}
	if _, done := err.(*explained); done {
		return err
	}
	msg := s.explain(err)
	if msg == "" {
		return err
	}
	return &explained{msg: msg, err: err}
}

// explained keeps the cause for errors.Is, but prints only the line.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

func (s *Security) explain(err error) string {
	pre := s.prefix
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		remote    *net.OpError
		header    tls.RecordHeaderError
	)
	eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed):
		return fmt.Sprintf("Kafka refused the %s login%s (SASL authentication failed): check the user name and password in %s%s", s.Mechanism, s.who(), pre, SASLJAASConfig)
	case errors.Is(err, kerr.UnsupportedSaslMechanism):
		return fmt.Sprintf("the broker does not enable %s%s=%s: use a mechanism its listener enables", pre, SASLMechanism, s.Mechanism)
	case errors.Is(err, kerr.IllegalSaslState) && s.Mechanism == "":
		return fmt.Sprintf("the broker's listener requires SASL: set %s%s=SASL_SSL (or SASL_PLAINTEXT) with %s%s and %s%s", pre, SecurityProtocol, pre, SASLMechanism, pre, SASLJAASConfig)
	case errors.As(err, &unknownCA):
		if s.truststore == "" {
			return fmt.Sprintf("the broker's certificate is not signed by a CA this system trusts (x509: unknown authority): set %s%s to a file holding its CA", pre, SSLTruststoreLocation)
		}
		return fmt.Sprintf("the broker's certificate is not signed by a CA in %s%s (x509: unknown authority): add the broker's CA there", pre, s.truststore)
	case errors.As(err, &hostErr):
		return fmt.Sprintf("the broker's certificate is not valid for %q (x509: host name mismatch): connect by a name the certificate holds, or set %s%s= (empty) to skip the host name check", hostErr.Host, pre, SSLEndpointIdentificationAlgo)
	case errors.As(err, &invalid):
		return fmt.Sprintf("the broker's certificate is not valid (%v): renew it, or check %s%s", invalid.Error(), pre, s.trustKey())
	case errors.As(err, &remote) && remote.Op == "remote error":
		// The broker's TLS alert (Go's alert type is not exported).
		switch alert := remote.Err.Error(); {
		case strings.Contains(alert, "certificate required"), strings.Contains(alert, "handshake failure") && !s.keystore:
			return fmt.Sprintf("the broker requires a client certificate (TLS alert %q): set %s%s (or %s%s and %s%s)", alert, pre, SSLKeystoreLocation, pre, SSLKeystoreKey, pre, SSLKeystoreCertificateChain)
		case strings.Contains(alert, "bad certificate"), strings.Contains(alert, "unknown certificate authority"), strings.Contains(alert, "certificate unknown"):
			return fmt.Sprintf("the broker refused the client certificate (TLS alert %q): use one its CA signed in %s%s", alert, pre, s.keystoreKey())
		}
	case errors.As(err, &header):
		return fmt.Sprintf("the broker did not answer in TLS (its listener is plaintext?): check %s%s=%s", pre, SecurityProtocol, s.Protocol)
	case eof && s.mech != nil:
		// Kafka answers a failed login with SASL_AUTHENTICATION_FAILED
		// (above); older brokers, and Kafka-protocol brokers such as kfake,
		// close the connection instead.
		return fmt.Sprintf("the broker closed the connection during the %s login%s: check the user name and password in %s%s, and that %s%s=%s is what its listener expects", s.Mechanism, s.who(), pre, SASLJAASConfig, pre, SecurityProtocol, s.Protocol)
	case eof && s.tls == nil:
		return fmt.Sprintf("%v (the broker closed the connection: if its listener uses TLS, set %s%s=SSL or SASL_SSL)", err, pre, SecurityProtocol)
	case errors.Is(err, kerr.ClusterAuthorizationFailed), errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.GroupAuthorizationFailed):
		who := s.User
		if who == "" {
			who = "this client"
		}
		return fmt.Sprintf("%v: Kafka's ACLs do not allow %s this; grant it, or log in as another principal in %s%s", err, who, pre, SASLJAASConfig)
	}
	return ""
}

func (s *Security) trustKey() string {
	if s.truststore != "" {
		return s.truststore
	}
	return SSLTruststoreLocation
}

func (s *Security) who() string {
	if s.User == "" {
		return ""
	}
	return fmt.Sprintf(" of %q", s.User)
}

func (s *Security) keystoreKey() string {
	if s.keystoreProp != "" {
		return s.keystoreProp
	}
	return SSLKeystoreLocation
}
