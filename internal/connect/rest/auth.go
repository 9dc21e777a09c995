package rest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
)

// errAuthFormat never quotes the setting: it holds a credential.
var errAuthFormat = errors.New(`rest: invalid Auth setting: want "basic:USER:PASSWORD" or "bearer:TOKEN", with none of the parts empty`)

// authenticator checks the Authorization header of every request.
type authenticator struct {
	scheme    string   // "Basic" or "Bearer"
	want      [32]byte // SHA-256 of "user:password" or of the token
	challenge string   // WWW-Authenticate
}

func parseAuth(s string) (*authenticator, error) {
	if s == "" {
		return nil, nil
	}
	kind, rest, _ := strings.Cut(s, ":")
	switch strings.ToLower(kind) {
	case "basic":
		user, password, ok := strings.Cut(rest, ":")
		if !ok || user == "" || password == "" {
			return nil, errAuthFormat
		}
		return &authenticator{scheme: "Basic", want: sha256.Sum256([]byte(rest)), challenge: `Basic realm="pgmotion", charset="UTF-8"`}, nil
	case "bearer":
		if rest == "" {
			return nil, errAuthFormat
		}
		return &authenticator{scheme: "Bearer", want: sha256.Sum256([]byte(rest)), challenge: `Bearer realm="pgmotion"`}, nil
	}
	return nil, errAuthFormat
}

// allow reports whether r carries the configured credentials. The scheme
// name is case-insensitive; Basic credentials are "user:password" in
// standard base64, as Kafka's JaasBasicAuthFilter reads them. Comparing
// digests keeps the time independent of where, and whether in length,
// the credentials differ.
func (a *authenticator) allow(r *http.Request) bool {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, a.scheme) {
		return false
	}
	cred = strings.TrimSpace(cred)
	got := []byte(cred)
	if a.scheme == "Basic" {
		dec, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return false
		}
		got = dec
	}
	sum := sha256.Sum256(got)
	return subtle.ConstantTimeCompare(sum[:], a.want[:]) == 1
}
