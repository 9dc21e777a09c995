// Package kafkaclient turns a Kafka client's security properties
// (security.protocol, sasl.*, ssl.*), named and read as Kafka's clients
// read them, into franz-go client options, and explains a failed
// connection in one line that names the property to fix.
//
// Parse checks the properties and loads every file they name, so that a
// bad setting stops pgmotion before it connects; a setting pgmotion does
// not support is an error naming it, never a silent plaintext connection.
// The SASL mechanisms are franz-go's (sasl/plain, sasl/scram, sasl/oauth,
// sasl/aws). No error or warning of this package holds a secret: not a
// password, a key, a token, nor an option of sasl.jaas.config.
package kafkaclient

import (
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
)

// Kafka's client security properties (CommonClientConfigs, SaslConfigs,
// SslConfigs).
const (
	SecurityProtocol = "security.protocol"

	SASLMechanism                  = "sasl.mechanism"
	SASLJAASConfig                 = "sasl.jaas.config"
	SASLLoginCallbackHandlerClass  = "sasl.login.callback.handler.class"
	SASLClientCallbackHandlerClass = "sasl.client.callback.handler.class"
	SASLLoginClass                 = "sasl.login.class"
	SASLLoginConnectTimeout        = "sasl.login.connect.timeout.ms"
	SASLLoginReadTimeout           = "sasl.login.read.timeout.ms"
	SASLOAuthTokenEndpointURL      = "sasl.oauthbearer.token.endpoint.url"
	SASLOAuthClientID              = "sasl.oauthbearer.client.credentials.client.id"
	SASLOAuthClientSecret          = "sasl.oauthbearer.client.credentials.client.secret"
	SASLOAuthScope                 = "sasl.oauthbearer.scope"

	SSLProtocol                     = "ssl.protocol"
	SSLEnabledProtocols             = "ssl.enabled.protocols"
	SSLCipherSuites                 = "ssl.cipher.suites"
	SSLProvider                     = "ssl.provider"
	SSLEngineFactoryClass           = "ssl.engine.factory.class"
	SSLKeyManagerAlgorithm          = "ssl.keymanager.algorithm"
	SSLTrustManagerAlgorithm        = "ssl.trustmanager.algorithm"
	SSLSecureRandomImplementation   = "ssl.secure.random.implementation"
	SSLEndpointIdentificationAlgo   = "ssl.endpoint.identification.algorithm"
	SSLTruststoreType               = "ssl.truststore.type"
	SSLTruststoreLocation           = "ssl.truststore.location"
	SSLTruststorePassword           = "ssl.truststore.password"
	SSLTruststoreCertificates       = "ssl.truststore.certificates"
	SSLKeystoreType                 = "ssl.keystore.type"
	SSLKeystoreLocation             = "ssl.keystore.location"
	SSLKeystorePassword             = "ssl.keystore.password"
	SSLKeystoreKey                  = "ssl.keystore.key"
	SSLKeystoreCertificateChain     = "ssl.keystore.certificate.chain"
	SSLKeyPassword                  = "ssl.key.password"
	ConnectorClientOverridePolicy   = "connector.client.config.override.policy"
	connectorPolicyPackage          = "org.apache.kafka.connect.connector.policy."
	connectorPolicySuffix           = "ConnectorClientConfigOverridePolicy"
	defaultEndpointIdentification   = "https"
	defaultKeyManagerAlgorithm      = "SunX509"
	defaultTrustManagerAlgorithm    = "PKIX"
	oauthLoginCallbackHandler       = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler"
	oauthLoginCallbackHandlerLegacy = "org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler"
	iamClientCallbackHandler        = "software.amazon.msk.auth.iam.IAMClientCallbackHandler"
)

// The values of security.protocol.
const (
	Plaintext     = "PLAINTEXT"
	SSL           = "SSL"
	SASLPlaintext = "SASL_PLAINTEXT"
	SASLSSL       = "SASL_SSL"
)

// The values of sasl.mechanism pgmotion supports.
const (
	MechPlain       = "PLAIN"
	MechScramSHA256 = "SCRAM-SHA-256"
	MechScramSHA512 = "SCRAM-SHA-512"
	MechOAuthBearer = "OAUTHBEARER"
	MechAWSMSKIAM   = "AWS_MSK_IAM"
)

const supportedMechanisms = "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER or AWS_MSK_IAM"

// IsSecurityKey reports whether key (without a producer., consumer. or
// admin. prefix) is a client security property: security.protocol,
// sasl.* or ssl.*.
func IsSecurityKey(key string) bool {
	return key == SecurityProtocol || strings.HasPrefix(key, "sasl.") || strings.HasPrefix(key, "ssl.")
}

// PrincipalKeys are the properties Kafka Connect's Principal override
// policy lets a connector override.
var PrincipalKeys = []string{SASLJAASConfig, SASLMechanism, SecurityProtocol}

// Pick returns the security properties of props.
func Pick(props map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range props {
		if IsSecurityKey(k) {
			out[k] = v
		}
	}
	return out
}

// Layer returns base's security properties with over's on top.
func Layer(base, over map[string]string) map[string]string {
	out := Pick(base)
	for k, v := range Pick(over) {
		out[k] = v
	}
	return out
}

// Security is a checked set of client security properties, ready to
// become franz-go options. Build it with Parse.
type Security struct {
	// Protocol is security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or
	// SASL_SSL.
	Protocol string
	// Mechanism is sasl.mechanism when Protocol uses SASL.
	Mechanism string
	// User is the SASL user or OAuth client id, for logs ("" if none).
	User string
	// Warnings has one line per property that is accepted but not used.
	Warnings []string

	prefix       string            // how the properties were named: "", "producer.", ...
	props        map[string]string // the security properties given
	tls          *tls.Config
	mech         sasl.Mechanism
	truststore   string // the property that holds the trusted CAs, "" for the system's
	keystore     bool   // a client certificate is configured
	keystoreProp string // the property that holds it
}

// PropertyError is a bad setting: Key is the property as the user named
// it (with its prefix), Msg says what is wrong and what to do.
type PropertyError struct {
	Key, Msg string
}

func (e *PropertyError) Error() string {
	if strings.Contains(e.Key, "=") { // sasl.mechanism=GSSAPI is not supported: ...
		return e.Key + " " + e.Msg
	}
	return e.Key + ": " + e.Msg
}

// Parse checks the security properties in props (named without prefix;
// other properties are ignored) and loads the files they name. prefix
// ("producer.", "consumer.", "producer.override.", ...) is how the
// properties are named in messages. Every bad property is reported.
func Parse(props map[string]string, prefix string) (*Security, error) {
	p := &parser{props: props, prefix: prefix, s: &Security{prefix: prefix, props: Pick(props)}}
	p.parse()
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	sort.Strings(p.s.Warnings)
	return p.s, nil
}

type parser struct {
	props  map[string]string
	prefix string
	s      *Security
	errs   []error
	used   map[string]bool
}

// get returns a property's value, trimmed, and marks it used.
func (p *parser) get(key string) (string, bool) {
	if p.used == nil {
		p.used = map[string]bool{}
	}
	p.used[key] = true
	v, ok := p.props[key]
	return strings.TrimSpace(v), ok
}

// raw returns a property's value untrimmed (passwords keep their spaces,
// as Kafka's PASSWORD type does).
func (p *parser) raw(key string) (string, bool) {
	p.get(key)
	v, ok := p.props[key]
	return v, ok
}

func (p *parser) errorf(key, format string, args ...any) {
	p.errs = append(p.errs, &PropertyError{Key: p.prefix + key, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) warnf(format string, args ...any) {
	p.s.Warnings = append(p.s.Warnings, fmt.Sprintf(format, args...))
}

// name is a property as the user named it.
func (p *parser) name(key string) string { return p.prefix + key }

func (p *parser) parse() {
	proto, _ := p.get(SecurityProtocol)
	if proto == "" {
		proto = Plaintext
	}
	switch up := strings.ToUpper(proto); up { // Kafka upper-cases it too
	case Plaintext, SSL, SASLPlaintext, SASLSSL:
		p.s.Protocol = up
	default:
		p.errorf(SecurityProtocol, "%q is not supported: use PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL", truncate(proto))
		return
	}
	useSASL := p.s.Protocol == SASLPlaintext || p.s.Protocol == SASLSSL
	useTLS := p.s.Protocol == SSL || p.s.Protocol == SASLSSL
	if useTLS {
		p.parseTLS()
	} else if p.hasAny(SSLTruststoreLocation, SSLTruststoreCertificates, SSLKeystoreLocation, SSLKeystoreKey) {
		// Kafka Connect also reads ssl.* for its REST listener, so this is
		// not an error.
		p.warnf("%s=%s does not use TLS, so the %sssl.* settings do not apply to Kafka connections; set %s=SSL or SASL_SSL to use them",
			p.name(SecurityProtocol), p.s.Protocol, p.prefix, p.name(SecurityProtocol))
	}
	if useSASL {
		p.parseSASL()
	} else if _, ok := p.get(SASLJAASConfig); ok {
		p.errorf(SASLJAASConfig, "is set, but %s=%s sends no credentials: set %s=SASL_SSL (or SASL_PLAINTEXT)",
			p.name(SecurityProtocol), p.s.Protocol, p.name(SecurityProtocol))
	}
	for _, k := range sortedKeys(p.props) {
		switch {
		case !IsSecurityKey(k) || p.used[k]:
		case strings.HasPrefix(k, "ssl.") && !useTLS, strings.HasPrefix(k, "sasl.") && !useSASL:
		default:
			p.warnf("%s is not used by pgmotion's Kafka clients; it is ignored", p.name(k))
		}
	}
}

func (p *parser) hasAny(keys ...string) bool {
	for _, k := range keys {
		if v, ok := p.props[k]; ok && strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Opts returns the franz-go options for these settings: none for
// PLAINTEXT, a TLS dialer for SSL, a SASL mechanism for SASL_*.
func (s *Security) Opts() []kgo.Opt {
	var opts []kgo.Opt
	if s.tls != nil {
		opts = append(opts, kgo.DialTLSConfig(s.tls.Clone()))
	}
	if s.mech != nil {
		opts = append(opts, kgo.SASL(s.mech))
	}
	return opts
}

// String describes the settings for logs, without secrets:
// "SASL_SSL, SCRAM-SHA-512 as \"connect\"".
func (s *Security) String() string {
	if s == nil {
		return Plaintext
	}
	d := s.Protocol
	if s.Mechanism != "" {
		d += ", " + s.Mechanism
		if s.User != "" {
			d += fmt.Sprintf(" as %q", s.User)
		}
	}
	if s.keystore {
		d += ", client certificate"
	}
	return d
}

// OverridePolicy is connector.client.config.override.policy.
type OverridePolicy string

// The policies of Kafka Connect (KIP-458). All is Kafka's default since
// 3.0 (KIP-722).
const (
	PolicyNone      OverridePolicy = "None"
	PolicyPrincipal OverridePolicy = "Principal"
	PolicyAll       OverridePolicy = "All"
)

// ParseOverridePolicy reads connector.client.config.override.policy, as an
// alias (None, Principal, All) or Kafka's class name; "" is All.
func ParseOverridePolicy(v string) (OverridePolicy, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return PolicyAll, nil
	}
	name := strings.TrimSuffix(strings.TrimPrefix(v, connectorPolicyPackage), connectorPolicySuffix)
	for _, p := range []OverridePolicy{PolicyNone, PolicyPrincipal, PolicyAll} {
		if strings.EqualFold(name, string(p)) {
			return p, nil
		}
	}
	return "", &PropertyError{Key: ConnectorClientOverridePolicy, Msg: fmt.Sprintf("%q is not a policy: use None, Principal or All", truncate(v))}
}

// Allows reports whether the policy lets a connector set key (a client
// property without its producer.override. style prefix).
func (p OverridePolicy) Allows(key string) bool {
	switch p {
	case PolicyAll, "":
		return true
	case PolicyPrincipal:
		for _, k := range PrincipalKeys {
			if k == key {
				return true
			}
		}
	}
	return false
}

// SASL is the SASL mechanism, nil unless Protocol uses SASL.
func (s *Security) SASL() sasl.Mechanism { return s.mech }

// Clients holds a Kafka Connect worker's client properties, each map
// named without its prefix: Worker for the worker's own clients (the
// top-level properties), Producer, Consumer and Admin for its tasks'
// clients (producer.*, consumer.*, admin.*), and OverridePolicy,
// connector.client.config.override.policy.
type Clients struct {
	Worker, Producer, Consumer, Admin map[string]string
	OverridePolicy                    string
}

// Equal reports whether s and o come from the same properties, so that
// their clients connect alike.
func (s *Security) Equal(o *Security) bool {
	if s == nil || o == nil {
		return s == o
	}
	return maps.Equal(s.props, o.props)
}

// ConnOpts copies what a new client needs to reach the cluster cl
// reaches, as cl does: its seed brokers, its TLS and its SASL.
func ConnOpts(cl *kgo.Client) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(cl.OptValue(kgo.SeedBrokers).([]string)...)}
	if c, ok := cl.OptValue(kgo.DialTLSConfig).(*tls.Config); ok && c != nil {
		opts = append(opts, kgo.DialTLSConfig(c.Clone()))
	}
	if m, ok := cl.OptValue(kgo.SASL).([]sasl.Mechanism); ok && len(m) > 0 {
		opts = append(opts, kgo.SASL(m...))
	}
	return opts
}
