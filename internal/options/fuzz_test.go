package options

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fuzzSecretPrefix = "PW~"

// FuzzParse feeds arbitrary configurations to ParsePostgres and Validate.
// Invariants: no panic; Parse and Validate agree; the password never appears
// in an error, a warning, String() or the validate response.
func FuzzParse(f *testing.F) {
	f.Add([]byte("topic.prefix=p\ndatabase.hostname=h\ndatabase.user=u\ndatabase.dbname=d"), "hunter2")
	f.Add([]byte("snapshot.mode=never\ntable.whitelist=a.(b\nschema.exclude.list=x\nschema.include.list=y"), "secret")
	f.Add([]byte("transforms=a,a\ntransforms.a.type=x\ntasks.max=abc\ndatabase.port=99999"), "pw")
	f.Add([]byte("message.key.columns=;a:b,,c;\nskipped.operations=none,c\ntopic.creation.default.partitions=0"), "x")
	for _, file := range testdataFiles(f) {
		_, cfg, err := ParseConnectorJSON(file)
		if err != nil {
			continue
		}
		var b bytes.Buffer
		for k, v := range cfg {
			b.WriteString(k + "=" + v + "\n")
		}
		f.Add(b.Bytes(), "pw")
	}
	f.Fuzz(func(t *testing.T, data []byte, pw string) {
		raw := map[string]string{"name": "fuzz", "connector.class": PostgresClass}
		for _, line := range strings.Split(string(data), "\n") {
			k, v, _ := strings.Cut(line, "=")
			raw[k] = v
		}
		secret := fuzzSecretPrefix + pw
		raw["database.password"] = secret
		raw["database.sslpassword"] = secret
		checkParse(t, raw, secret)
	})
}

func checkParse(t *testing.T, raw map[string]string, secret string) {
	t.Helper()
	// The secret may only show up if the input repeats it elsewhere.
	leaksAllowed := false
	for k, v := range raw {
		if (k != "database.password" && k != "database.sslpassword" && strings.Contains(v, secret)) || strings.Contains(k, secret) {
			leaksAllowed = true
		}
	}
	var texts []string
	p, err := ParsePostgres(raw)
	ci := Postgres.Validate(raw)
	js, jerr := json.Marshal(ci)
	if jerr != nil {
		t.Fatalf("marshal ConfigInfos: %v", jerr)
	}
	texts = append(texts, string(js))
	if err != nil {
		texts = append(texts, err.Error())
		if verr := ci.Err(); verr == nil || verr.Error() != err.Error() {
			t.Fatalf("Parse and Validate disagree:\n%v\n%v", err, verr)
		}
	} else {
		if ci.ErrorCount != 0 {
			t.Fatalf("Parse accepted what Validate refuses: %v", ci.Err())
		}
		texts = append(texts, p.Config.String(), strings.Join(p.Warnings, "\n"), p.RedactedConnString(true))
		if p.Password.Reveal() != strings.TrimSpace(secret) {
			t.Fatalf("password %q not kept", secret)
		}
	}
	if leaksAllowed || !strings.HasPrefix(secret, fuzzSecretPrefix) || len(secret) < len(fuzzSecretPrefix)+3 {
		return
	}
	for _, s := range texts {
		if strings.Contains(s, secret) {
			t.Fatalf("secret %q shown in %q", secret, s)
		}
	}
}

// FuzzParseConnectorJSON feeds arbitrary request bodies. Invariants: no
// panic; a success has config["name"] == name; errors never quote the
// password.
func FuzzParseConnectorJSON(f *testing.F) {
	for _, file := range testdataFiles(f) {
		f.Add(file)
	}
	f.Add([]byte(`{"name":"a","config":{"x":1.50,"y":true,"z":null}}`))
	f.Add([]byte(`{"name":"a","config":{"database.password":"PW~abcdef","x":[1]}}`))
	f.Add([]byte("{\"name\":\"a\",\n\"config\":{\"a\":\"b\",}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		name, cfg, err := ParseConnectorJSON(data)
		if err != nil {
			if strings.Contains(err.Error(), "PW~") && !bytes.Contains(data, []byte("PW~")) {
				t.Fatalf("error invents a secret: %v", err)
			}
			return
		}
		if cfg == nil || cfg["name"] != name {
			t.Fatalf("name %q, config %v", name, cfg)
		}
		if pw, ok := cfg["database.password"]; ok {
			checkParse(t, cfg, pw)
		}
	})
}

func testdataFiles(f *testing.F) [][]byte {
	paths, _ := filepath.Glob("testdata/connectors/*.json")
	var out [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}
