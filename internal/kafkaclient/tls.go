package kafkaclient

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"strings"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"
)

// The store types of ssl.truststore.type and ssl.keystore.type. JKS is
// Kafka's default.
const (
	storeJKS    = "JKS"
	storePKCS12 = "PKCS12"
	storePEM    = "PEM"
)

func (p *parser) parseTLS() {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	p.parseVersions(cfg)
	for _, k := range []string{SSLCipherSuites, SSLProvider, SSLEngineFactoryClass} {
		if v, _ := p.get(k); v != "" {
			p.errorf(k, "is not supported: pgmotion uses Go's TLS (TLS 1.2 and 1.3 with Go's cipher suites); remove it")
		}
	}
	for k, def := range map[string]string{SSLKeyManagerAlgorithm: defaultKeyManagerAlgorithm, SSLTrustManagerAlgorithm: defaultTrustManagerAlgorithm, SSLSecureRandomImplementation: ""} {
		if v, _ := p.get(k); v != "" && v != def {
			p.warnf("%s=%s is ignored: pgmotion uses Go's TLS", p.name(k), v)
		}
	}
	if pool := p.truststore(); pool != nil {
		cfg.RootCAs = pool
	}
	if cert := p.keystore(); cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
		p.s.keystore = true
	}
	algo, set := p.get(SSLEndpointIdentificationAlgo)
	if !set {
		algo = defaultEndpointIdentification
	}
	switch strings.ToLower(algo) {
	case "https": // Go's default check: the chain and the host name
	case "":
		// Kafka checks the chain but not the host name. Go checks both or
		// neither, so the chain is checked here.
		roots := cfg.RootCAs
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the broker sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			if err != nil {
				return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			}
			return nil
		}
	default:
		p.errorf(SSLEndpointIdentificationAlgo, "%q is not supported: use https (the default) to check the broker's host name, or an empty value to skip that check", truncate(algo))
	}
	p.s.tls = cfg
}

func (p *parser) parseVersions(cfg *tls.Config) {
	versions := map[string]uint16{"TLSV1.2": tls.VersionTLS12, "TLSV1.3": tls.VersionTLS13}
	if v, _ := p.get(SSLProtocol); v != "" {
		if _, ok := versions[strings.ToUpper(v)]; !ok && !strings.EqualFold(v, "TLS") {
			p.errorf(SSLProtocol, "%q is not supported: use TLSv1.3 or TLSv1.2", truncate(v))
		}
	}
	v, _ := p.get(SSLEnabledProtocols)
	if v == "" {
		return
	}
	min := uint16(0)
	for _, item := range strings.Split(v, ",") {
		ver, ok := versions[strings.ToUpper(strings.TrimSpace(item))]
		if !ok {
			p.errorf(SSLEnabledProtocols, "lists %q, which is not supported: list TLSv1.2 and/or TLSv1.3", truncate(strings.TrimSpace(item)))
			return
		}
		if min == 0 || ver < min {
			min = ver
		}
	}
	cfg.MinVersion = min
}

// storeType is a store's type, upper case, Kafka's JKS by default.
func (p *parser) storeType(key string) string {
	t, _ := p.get(key)
	if t == "" {
		return storeJKS
	}
	return strings.ToUpper(t)
}

// truststore loads the CAs to trust; nil means the system's.
func (p *parser) truststore() *x509.CertPool {
	typ := p.storeType(SSLTruststoreType)
	loc, _ := p.get(SSLTruststoreLocation)
	inline, _ := p.raw(SSLTruststoreCertificates)
	pass, hasPass := p.raw(SSLTruststorePassword)
	switch {
	case strings.TrimSpace(inline) != "":
		if loc != "" {
			p.errorf(SSLTruststoreCertificates, "and %s are both set: use one", p.name(SSLTruststoreLocation))
			return nil
		}
		if typ != storePEM {
			p.errorf(SSLTruststoreCertificates, "needs %s=PEM", p.name(SSLTruststoreType))
			return nil
		}
		p.s.truststore = SSLTruststoreCertificates
		return p.pemPool(SSLTruststoreCertificates, []byte(inline))
	case loc == "":
		return nil
	}
	p.s.truststore = SSLTruststoreLocation
	data, err := os.ReadFile(loc)
	if err != nil {
		p.errorf(SSLTruststoreLocation, "%v", err)
		return nil
	}
	switch typ {
	case storePEM:
		if hasPass && pass != "" {
			p.errorf(SSLTruststorePassword, "must not be set with %s=PEM (PEM certificates have no password)", p.name(SSLTruststoreType))
			return nil
		}
		return p.pemPool(SSLTruststoreLocation, data)
	case storePKCS12:
		certs, err := pkcs12.DecodeTrustStore(data, pass)
		if err != nil {
			p.errorf(SSLTruststoreLocation, "cannot read %s as PKCS12 (%v): check %s and %s", loc, err, p.name(SSLTruststorePassword), p.name(SSLTruststoreType))
			return nil
		}
		pool := x509.NewCertPool()
		for _, c := range certs {
			pool.AddCert(c)
		}
		return pool
	case storeJKS:
		ks, err := p.loadJKS(SSLTruststoreLocation, SSLTruststorePassword, SSLTruststoreType, loc, data, pass)
		if err != nil {
			return nil
		}
		pool := x509.NewCertPool()
		n := 0
		for _, alias := range ks.Aliases() {
			if e, err := ks.GetTrustedCertificateEntry(alias); err == nil {
				if c, err := x509.ParseCertificate(e.Certificate.Content); err == nil {
					pool.AddCert(c)
					n++
				}
			}
		}
		if n == 0 {
			p.errorf(SSLTruststoreLocation, "%s holds no trusted certificate", loc)
			return nil
		}
		return pool
	default:
		p.errorf(SSLTruststoreType, "%q is not supported: use PEM, PKCS12 or JKS", truncate(typ))
		return nil
	}
}

// loadJKS reads a Java KeyStore, explaining the usual mistakes.
func (p *parser) loadJKS(locKey, passKey, typeKey, loc string, data []byte, pass string) (keystore.KeyStore, error) {
	ks := keystore.New()
	if !bytes.HasPrefix(data, []byte{0xfe, 0xed, 0xfe, 0xed}) {
		p.errorf(locKey, "%s is not a JKS keystore, and %s is JKS (Kafka's default): set %s to PKCS12 or PEM, whichever the file is", loc, p.name(typeKey), p.name(typeKey))
		return ks, errors.New("not JKS")
	}
	if err := ks.Load(bytes.NewReader(data), []byte(pass)); err != nil {
		if strings.Contains(err.Error(), "digest") {
			p.errorf(passKey, "does not open %s (the keystore's integrity check failed): check the password", loc)
		} else {
			p.errorf(locKey, "cannot read %s as JKS (%v): convert it with keytool -importkeystore -deststoretype PKCS12 and set %s=PKCS12", loc, err, p.name(typeKey))
		}
		return ks, err
	}
	return ks, nil
}

func (p *parser) pemPool(key string, data []byte) *x509.CertPool {
	pool := x509.NewCertPool()
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			p.errorf(key, "holds a certificate that cannot be read: %v", err)
			return nil
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		p.errorf(key, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
		return nil
	}
	return pool
}

// keystore loads the client certificate and key for mTLS; nil means none.
func (p *parser) keystore() *tls.Certificate {
	typ := p.storeType(SSLKeystoreType)
	loc, _ := p.get(SSLKeystoreLocation)
	key, _ := p.raw(SSLKeystoreKey)
	chain, _ := p.raw(SSLKeystoreCertificateChain)
	pass, _ := p.raw(SSLKeystorePassword)
	keyPass, hasKeyPass := p.raw(SSLKeyPassword)
	if strings.TrimSpace(key) != "" || strings.TrimSpace(chain) != "" {
		switch {
		case strings.TrimSpace(key) == "" || strings.TrimSpace(chain) == "":
			p.errorf(SSLKeystoreKey, "and %s go together: set both", p.name(SSLKeystoreCertificateChain))
		case loc != "":
			p.errorf(SSLKeystoreKey, "and %s are both set: use one", p.name(SSLKeystoreLocation))
		case typ != storePEM:
			p.errorf(SSLKeystoreKey, "needs %s=PEM", p.name(SSLKeystoreType))
		case pass != "":
			p.errorf(SSLKeystorePassword, "must not be set with %s (use %s for an encrypted key)", p.name(SSLKeystoreKey), p.name(SSLKeyPassword))
		default:
			p.s.keystoreProp = SSLKeystoreKey
			return p.pemCert(SSLKeystoreKey, []byte(chain+"\n"+key), keyPass)
		}
		return nil
	}
	if loc == "" {
		return nil
	}
	p.s.keystoreProp = SSLKeystoreLocation
	data, err := os.ReadFile(loc)
	if err != nil {
		p.errorf(SSLKeystoreLocation, "%v", err)
		return nil
	}
	switch typ {
	case storePEM:
		if pass != "" {
			p.errorf(SSLKeystorePassword, "must not be set with %s=PEM (use %s for an encrypted key)", p.name(SSLKeystoreType), p.name(SSLKeyPassword))
			return nil
		}
		return p.pemCert(SSLKeystoreLocation, data, keyPass)
	case storePKCS12:
		k, leaf, cas, err := pkcs12.DecodeChain(data, pass)
		if err != nil && hasKeyPass && keyPass != pass {
			k, leaf, cas, err = pkcs12.DecodeChain(data, keyPass)
		}
		if err != nil {
			p.errorf(SSLKeystoreLocation, "cannot read %s as PKCS12 (%v): check %s and %s", loc, err, p.name(SSLKeystorePassword), p.name(SSLKeystoreType))
			return nil
		}
		cert := &tls.Certificate{PrivateKey: k, Leaf: leaf, Certificate: [][]byte{leaf.Raw}}
		for _, c := range cas {
			cert.Certificate = append(cert.Certificate, c.Raw)
		}
		return cert
	case storeJKS:
		ks, err := p.loadJKS(SSLKeystoreLocation, SSLKeystorePassword, SSLKeystoreType, loc, data, pass)
		if err != nil {
			return nil
		}
		if !hasKeyPass {
			keyPass = pass
		}
		for _, alias := range ks.Aliases() {
			if !ks.IsPrivateKeyEntry(alias) {
				continue
			}
			e, err := ks.GetPrivateKeyEntry(alias, []byte(keyPass))
			if err != nil {
				p.errorf(SSLKeyPassword, "does not decrypt the key %q in %s: check it (without it, %s is used)", alias, loc, p.name(SSLKeystorePassword))
				return nil
			}
			k, err := x509.ParsePKCS8PrivateKey(e.PrivateKey)
			if err != nil {
				p.errorf(SSLKeystoreLocation, "the key %q in %s cannot be read: %v", alias, loc, err)
				return nil
			}
			cert := &tls.Certificate{PrivateKey: k}
			for _, c := range e.CertificateChain {
				cert.Certificate = append(cert.Certificate, c.Content)
			}
			return cert
		}
		p.errorf(SSLKeystoreLocation, "%s holds no private key entry", loc)
		return nil
	default:
		p.errorf(SSLKeystoreType, "%q is not supported: use PEM, PKCS12 or JKS", truncate(typ))
		return nil
	}
}

// pemCert reads a PEM private key and its certificate chain from data.
func (p *parser) pemCert(key string, data []byte, keyPass string) *tls.Certificate {
	var certs, keys []byte
	encrypted := false
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch {
		case b.Type == "CERTIFICATE":
			certs = append(certs, pem.EncodeToMemory(b)...)
		case b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "":
			encrypted = true
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			keys = append(keys, pem.EncodeToMemory(b)...)
		}
	}
	if encrypted {
		p.errorf(key, "holds an encrypted private key, which pgmotion cannot decrypt: decrypt it (openssl pkcs8 -in key.pem -out key-plain.pem) and remove %s, or use %s=PKCS12", p.name(SSLKeyPassword), p.name(SSLKeystoreType))
		return nil
	}
	if keyPass != "" {
		p.warnf("%s is not used: the PEM private key is not encrypted", p.name(SSLKeyPassword))
	}
	if len(certs) == 0 || len(keys) == 0 {
		p.errorf(key, "needs a PEM private key and its certificate chain (-----BEGIN PRIVATE KEY----- and -----BEGIN CERTIFICATE-----)")
		return nil
	}
	cert, err := tls.X509KeyPair(certs, keys)
	if err != nil {
		p.errorf(key, "holds a key and certificate that do not go together: %v", errorWithoutKey(err))
		return nil
	}
	return &cert
}

// errorWithoutKey keeps tls.X509KeyPair's message, which never quotes key
// material, to one line.
func errorWithoutKey(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}
