package kafkaclient

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sasl/oauth"
)

// The sasl.jaas.config options of OAuthBearerLoginModule that Kafka's
// OAuthBearerLoginCallbackHandler reads (KIP-768), and the prefix of SASL
// extensions.
const (
	jaasClientID     = "clientId"
	jaasClientSecret = "clientSecret"
	jaasScope        = "scope"
	jaasExtension    = "extension_"
)

// Kafka's defaults for the token request (sasl.login.connect.timeout.ms
// and sasl.login.read.timeout.ms are unset in Kafka, leaving the JDK's
// URLConnection without limit; pgmotion bounds them).
const (
	defaultLoginConnectTimeout = 10 * time.Second
	defaultLoginReadTimeout    = 30 * time.Second
)

// parseOAuth sets up the client-credentials login of Kafka's
// OAuthBearerLoginCallbackHandler: a token from
// sasl.oauthbearer.token.endpoint.url, for the client id and secret of
// sasl.oauthbearer.client.credentials.* or, as before Kafka 4.1, of the
// clientId and clientSecret options of sasl.jaas.config.
func (p *parser) parseOAuth(jaas JAAS) {
	if v, ok := p.get(SASLLoginCallbackHandlerClass); ok && v != "" && v != oauthLoginCallbackHandler && v != oauthLoginCallbackHandlerLegacy {
		p.errorf(SASLLoginCallbackHandlerClass, "%q is not supported: pgmotion logs in with client credentials as %s does; use that class", truncate(v), oauthLoginCallbackHandler)
		return
	}
	endpoint, _ := p.get(SASLOAuthTokenEndpointURL)
	if endpoint == "" {
		p.errorf(SASLOAuthTokenEndpointURL, "is not set: %s=%s logs in with client credentials at this token endpoint (Kafka's unsecured test tokens are not supported)", p.name(SASLMechanism), MechOAuthBearer)
		return
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "file") || (u.Scheme != "file" && u.Host == "") {
		p.errorf(SASLOAuthTokenEndpointURL, "is not an https://, http:// or file: URL")
		return
	}
	pick := func(key, option string) string {
		if v, ok := p.raw(key); ok {
			return strings.TrimSpace(v)
		}
		return strings.TrimSpace(jaas.Options[option])
	}
	id, secret, scope := pick(SASLOAuthClientID, jaasClientID), pick(SASLOAuthClientSecret, jaasClientSecret), pick(SASLOAuthScope, jaasScope)
	ext := map[string]string{}
	for k, v := range jaas.Options {
		if name, ok := strings.CutPrefix(k, jaasExtension); ok && name != "" {
			ext[name] = v
		}
	}
	tok := &tokenSource{endpoint: endpoint, id: id, secret: secret, scope: scope, prefix: p.prefix,
		connectTimeout: p.millis(SASLLoginConnectTimeout, defaultLoginConnectTimeout),
		readTimeout:    p.millis(SASLLoginReadTimeout, defaultLoginReadTimeout)}
	if u.Scheme != "file" {
		if id == "" || secret == "" {
			p.errorf(SASLJAASConfig, `needs clientId="..." and clientSecret="..." (or set %s and %s)`, p.name(SASLOAuthClientID), p.name(SASLOAuthClientSecret))
			return
		}
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			p.warnf("%s is http://: the client secret crosses the network unencrypted; use https://", p.name(SASLOAuthTokenEndpointURL))
		}
	} else {
		tok.file = u.Path
		if tok.file == "" {
			tok.file = u.Opaque
		}
	}
	p.s.User = id
	p.s.mech = oauth.Oauth(func(ctx context.Context) (oauth.Auth, error) {
		t, err := tok.token(ctx, p.s.tls)
		return oauth.Auth{Token: t, Extensions: ext}, err
	})
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (p *parser) millis(key string, def time.Duration) time.Duration {
	v, ok := p.get(key)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n <= 0 {
		p.errorf(key, "%q is not a positive number of milliseconds", truncate(v))
		return def
	}
	return time.Duration(n) * time.Millisecond
}

// tokenSource fetches access tokens with the client-credentials grant as
// Kafka's HttpAccessTokenRetriever does (a form POST of
// grant_type=client_credentials and scope, HTTP basic authentication with
// the client id and secret), and keeps each until shortly before it
// expires.
type tokenSource struct {
	endpoint, id, secret, scope string
	file                        string // a file: endpoint's path
	prefix                      string
	connectTimeout, readTimeout time.Duration

	mu      sync.Mutex
	cached  string
	expires time.Time
}

func (t *tokenSource) token(ctx context.Context, tlsCfg *tls.Config) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cached != "" && time.Now().Before(t.expires) {
		return t.cached, nil
	}
	if t.file != "" {
		b, err := os.ReadFile(t.file)
		if err != nil {
			return "", fmt.Errorf("%s%s: cannot read the token file: %w", t.prefix, SASLOAuthTokenEndpointURL, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if t.scope != "" {
		form.Set("scope", t.scope)
	}
	ctx, cancel := context.WithTimeout(ctx, t.connectTimeout+t.readTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("%s%s: %w", t.prefix, SASLOAuthTokenEndpointURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(t.id+":"+t.secret)))
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: t.connectTimeout}).DialContext,
		ResponseHeaderTimeout: t.readTimeout,
		Proxy:                 http.ProxyFromEnvironment,
	}
	if tlsCfg != nil {
		// The token endpoint is trusted as the brokers are, as Kafka does
		// with the client's ssl.* settings.
		c := tlsCfg.Clone()
		c.ServerName = ""
		tr.TLSClientConfig = c
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already
		}
		return "", fmt.Errorf("%s%s: cannot get a token: %w", t.prefix, SASLOAuthTokenEndpointURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("%s%s: cannot read the token response: %w", t.prefix, SASLOAuthTokenEndpointURL, err)
	}
	var r struct {
		AccessToken string      `json:"access_token"`
		ExpiresIn   json.Number `json:"expires_in"`
		Error       string      `json:"error"`
		Description string      `json:"error_description"`
	}
	_ = json.Unmarshal(body, &r)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		// RFC 6749 §5.2 error responses hold no secret; show their codes
		// only, never the body.
		msg := resp.Status
		if r.Error != "" {
			msg += " " + truncate(r.Error)
		}
		if resp.StatusCode == http.StatusUnauthorized || r.Error == "invalid_client" {
			return "", fmt.Errorf("the token endpoint refused the client credentials (%s): check the client id and secret in %s%s", msg, t.prefix, SASLJAASConfig)
		}
		return "", fmt.Errorf("%s%s: the token endpoint answered %s", t.prefix, SASLOAuthTokenEndpointURL, msg)
	}
	if r.AccessToken == "" {
		return "", fmt.Errorf("%s%s: the token endpoint's answer has no access_token", t.prefix, SASLOAuthTokenEndpointURL)
	}
	t.cached = r.AccessToken
	t.expires = time.Now().Add(time.Minute)
	if n, err := r.ExpiresIn.Int64(); err == nil && n > 0 {
		// Renew at 80% of the lifetime, as Kafka's refresh window factor.
		t.expires = time.Now().Add(time.Duration(n) * time.Second * 8 / 10)
	}
	return t.cached, nil
}
