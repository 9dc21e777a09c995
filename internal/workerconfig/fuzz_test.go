package workerconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseProperties checks that ReadProperties and Parse never panic and
// that whatever ReadProperties reads, WriteProperties writes back so that
// ReadProperties reads the same pairs again.
func FuzzParseProperties(f *testing.F) {
	seeds := []string{
		"", "a=b", "Truth = Beauty\n Truth:Beauty\nTruth                    :Beauty\n",
		"fruits   apple, banana, pear, \\\n    cantaloupe, watermelon, \\\n    kiwi, mango\n",
		"cheeses\n", `\:\=`, "# c\n! c\n\n", "a=b\\\\\nc=d", "a=b\\\n#c", "#c\\\na=b",
		"a=\\u0041\\uD83D\\uDE00\\uD800", "a=\\u12", "k\\ ey=\\ v\\t\\n", "a=1\r\nb=2\rc=3",
		"\xEF\xBB\xBFa=caf\xe9", "a=b\\", "\\\n#x", "offset.flush.interval.ms=abc\n",
		"bootstrap.servers=${env:X}\nlisteners=http://:8083\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	if data, err := os.ReadFile(filepath.Join("testdata", "connect-distributed.properties")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		props, err := ReadProperties(bytes.NewReader(data))
		if err == nil {
			var buf bytes.Buffer
			if err := WriteProperties(&buf, props); err != nil {
				t.Fatal(err)
			}
			back, err := ReadProperties(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("reading back %q: %v", buf.Bytes(), err)
			}
			if !reflect.DeepEqual(stripLines(back), stripLines(props)) {
				t.Fatalf("round trip of %q through %q:\n got %+v\nwant %+v", data, buf.Bytes(), back, props)
			}
			for i := 1; i < len(props); i++ {
				if props[i].Line < props[i-1].Line {
					t.Fatalf("lines go backwards: %+v", props)
				}
			}
		}
		// Parse as a worker file, with every config provider turned off
		// (the last config.providers wins) so that nothing is read.
		in := append(append([]byte{}, data...), "\n\nconfig.providers=\n"...)
		w, err := Parse(bytes.NewReader(in), "fuzz.properties")
		if err != nil {
			return
		}
		// A parsed worker formats back to properties it parses again.
		var list []Property
		for k, v := range w.Properties() {
			list = append(list, Property{Key: k, Value: v})
		}
		var buf bytes.Buffer
		if err := WriteProperties(&buf, list); err != nil {
			t.Fatal(err)
		}
		w2, err := Parse(&buf, "formatted.properties")
		if err != nil {
			t.Fatalf("formatted worker does not parse: %v\n%s", err, buf.Bytes())
		}
		if !reflect.DeepEqual(exported(w), exported(w2)) {
			t.Fatalf("worker round trip:\n got %+v\nwant %+v", exported(w2), exported(w))
		}
	})
}

// FuzzResolve checks that Resolve never panics, leaves values without
// placeholders alone, and never puts a resolved value in an error.
func FuzzResolve(f *testing.F) {
	dir := f.TempDir()
	secrets := map[string]string{"env": "ENVSECRET-91c", "file": "FILESECRET-2d7", "dir": "DIRSECRET-a40"}
	file := filepath.Join(dir, "s.properties")
	if err := os.WriteFile(file, []byte("k="+secrets["file"]+"\nname=k\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "k"), []byte(secrets["dir"]), 0o600); err != nil {
		f.Fatal(err)
	}
	w := Default()
	for _, kv := range [][2]string{
		{"config.providers", "env,file,dir"},
		{"config.providers.env.class", EnvVarProviderClass},
		{"config.providers.file.class", FileProviderClass},
		{"config.providers.file.param.allowed.paths", dir},
		{"config.providers.dir.class", DirectoryProviderClass},
		{"config.providers.dir.param.allowed.paths", dir},
	} {
		if err := w.Set(kv[0], kv[1]); err != nil {
			f.Fatal(err)
		}
	}
	r, err := NewResolver(w, []string{"S=" + secrets["env"], "DIR=" + dir, "FILE=" + file, "K=k"})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"", "plain", "${env:S}", "${env:NOPE}", "${file:" + file + ":k}", "${dir:" + dir + ":k}",
		"${file:${env:FILE}:${env:K}}", "${dir:${env:DIR}:${file:" + file + ":name}}", "a${env:S}b${env:S}c",
		"${x}", "${", "${a:b", "$${env:S}}", "${${env:S}}", "${vault:p:k}", "${env:/p:S}",
		strings.Repeat("${env:", 12) + "S" + strings.Repeat("}", 12),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		out, err := r.Resolve(map[string]string{"p": value})
		if !strings.Contains(value, "${") && (err != nil || out["p"] != value) {
			t.Fatalf("Resolve(%q) = %q, %v; want it unchanged", value, out["p"], err)
		}
		if err == nil {
			return
		}
		if out != nil {
			t.Fatalf("Resolve(%q) returned a map with an error", value)
		}
		for _, secret := range secrets {
			if strings.Contains(err.Error(), secret) && !strings.Contains(value, secret) {
				t.Fatalf("Resolve(%q): error %q holds a resolved secret", value, err)
			}
		}
		if !strings.HasPrefix(err.Error(), "p: cannot resolve ${") {
			t.Fatalf("Resolve(%q): error %q does not name the property and placeholder", value, err)
		}
	})
}
