package options

import (
	"regexp"
	"strings"
)

// One rule decides which values are secret, for every REST response, log
// line, error and status trace: the worker's (internal/workerconfig) and
// the connectors' alike. A value is hidden when its property is declared
// secret (Field.IsSecret) or its name looks like a secret (SensitiveKey);
// any other value is shown with the passwords of the URLs in it hidden
// (HideURLPasswords).

// sensitiveSuffixes end the names of properties that hold secrets. They
// cover Debezium's Configuration.PASSWORD_PATTERN (…password,
// …sasl.jaas.config, …credentials.json, …connectionstring,
// …connection.string) and Kafka's PASSWORD properties (ssl.key.password,
// ssl.keystore.key, ssl.keystore.certificate.chain, …), plus tokens and
// API keys.
var sensitiveSuffixes = []string{
	"password", "passwd", "passphrase", "token", "credentials",
	"apikey", "api.key", "api_key", "api-key",
	"private.key", "privatekey", "access.key", "keystore.key",
	"keystore.certificate.chain", "truststore.certificates",
	"sasl.jaas.config", "credentials.json", "connectionstring", "connection.string",
}

// sensitiveParts make a name sensitive wherever they appear in it, as in
// Debezium's pattern (schema registry credentials carry suffixes).
var sensitiveParts = []string{"secret", "basic.auth.user.info"}

// SensitiveKey reports whether a property looks like it holds a secret.
// The rule, on the name in lower case: it contains secret or
// basic.auth.user.info, or it ends with one of
//
//	password passwd passphrase token credentials apikey api.key api_key
//	api-key private.key privatekey access.key keystore.key
//	keystore.certificate.chain truststore.certificates sasl.jaas.config
//	credentials.json connectionstring connection.string
//
// So database.password, ssl.key.password, ssl.keystore.key,
// producer.sasl.jaas.config, vault.token, datadog.api.key,
// aws.secret.access.key, client.secret.id and
// schema.registry.basic.auth.user.info are sensitive; token.endpoint.url,
// message.key.columns and key.converter are not. It is broader than
// Debezium's pattern (…secret, …password, …sasl.jaas.config and the
// others above): a value hidden by mistake costs a look at the config,
// one shown by mistake a credential.
func SensitiveKey(name string) bool {
	k := strings.ToLower(name)
	for _, s := range sensitiveSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	for _, s := range sensitiveParts {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// MaskValue is how the value v of property key is shown: Hidden when
// isSecret(key) (nil means SensitiveKey), else v with its URL passwords
// hidden.
func MaskValue(key, v string, isSecret func(string) bool) string {
	if isSecret == nil {
		isSecret = SensitiveKey
	}
	if isSecret(key) {
		return Hidden
	}
	return HideURLPasswords(v)
}

// urlPasswordParam is a password given as a URL query parameter, as JDBC
// URLs take it (jdbc:postgresql://db/app?user=u&password=pw).
var urlPasswordParam = regexp.MustCompile(`(?i)([?&;](?:password|passwd|pwd)=)[^&;#\s,]*`)

// HideURLPasswords returns v with the password of every URL in it
// replaced by Hidden, in the userinfo (postgres://app:pw@db/x becomes
// postgres://app:[hidden]@db/x) or in a password query parameter
// (…?user=app&password=[hidden]). A URL ends at white space or a comma,
// so lists of URLs are covered. Other text is returned as it is.
func HideURLPasswords(v string) string {
	if !strings.Contains(v, "://") {
		return v
	}
	var b strings.Builder
	for {
		i := strings.Index(v, "://")
		if i < 0 {
			b.WriteString(v)
			return b.String()
		}
		b.WriteString(v[:i+3])
		v = v[i+3:]
		end := strings.IndexAny(v, " \t\r\n,")
		if end < 0 {
			end = len(v)
		}
		u := v[:end]
		v = v[end:]
		auth := u
		if j := strings.IndexAny(auth, "/?#"); j >= 0 {
			auth = auth[:j]
		}
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			if c := strings.IndexByte(auth[:at], ':'); c >= 0 {
				u = auth[:c+1] + Hidden + u[at:]
			}
		}
		b.WriteString(urlPasswordParam.ReplaceAllString(u, "${1}"+Hidden))
	}
}

// MaskConfig returns a copy of the connector config cfg with the values
// that are secret in it (SecretIn) replaced by Hidden and the passwords of
// URLs in the others hidden (MaskValue); a nil config becomes an empty
// one. Masking a masked config changes nothing. The REST API shows every
// config through it, and the console the configs in the config topic.
func MaskConfig(cfg map[string]string) map[string]string {
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		out[k] = MaskValue(k, v, func(k string) bool { return SecretIn(cfg, k) })
	}
	return out
}

// converterProps name converter classes; keys under them configure the
// converter.
var converterProps = []string{PropKeyConverter, PropValueConverter, PropHeaderConverter}

// SecretIn reports whether key holds a secret in the connector config
// cfg: it looks like one (SensitiveKey), or the connector's spec declares it secret, or it
// configures a transform, predicate or converter whose spec does.
func SecretIn(cfg map[string]string, key string) bool {
	if SensitiveKey(key) || declaredSecret(cfg[PropConnectorClass], key, true) {
		return true
	}
	for _, family := range []string{PropTransforms + ".", PropPredicates + "."} {
		if rest, ok := strings.CutPrefix(key, family); ok {
			alias, prop, ok := strings.Cut(rest, ".")
			if ok && prop != "type" && declaredSecret(cfg[family+alias+".type"], prop, false) {
				return true
			}
		}
	}
	for _, conv := range converterProps {
		if prop, ok := strings.CutPrefix(key, conv+"."); ok && declaredSecret(cfg[conv], prop, false) {
			return true
		}
	}
	return false
}

// declaredSecret reports whether the spec of class declares prop secret.
// When the class is unknown and anyConnector is set, every registered
// connector spec is asked: a config without a usable connector.class is
// still masked.
func declaredSecret(class, prop string, anyConnector bool) bool {
	if s, ok := Lookup(class); ok {
		return specSecret(s, prop)
	}
	if !anyConnector {
		return false
	}
	for _, s := range All() {
		if (s.Type == "source" || s.Type == "sink") && specSecret(s, prop) {
			return true
		}
	}
	return false
}

func specSecret(s *Spec, prop string) bool {
	if f, ok := s.Field(prop); ok {
		return f.IsSecret()
	}
	for _, f := range s.Fields {
		for _, a := range f.Aliases {
			if a == prop {
				return f.IsSecret()
			}
		}
	}
	return false
}
