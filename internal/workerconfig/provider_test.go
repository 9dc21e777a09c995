package workerconfig

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// fixture is a secrets file and a secrets directory with known values.
type fixture struct {
	dir, file, secretsDir string
	environ               []string
}

const (
	secretDBPassword = "pw-3f9a-db" // in the properties file
	secretToken      = "tok-77c1"   // in the directory
	secretEnv        = "env-5e2b"   // in the environment
)

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	f := fixture{
		dir:        dir,
		file:       filepath.Join(dir, "secrets.properties"),
		secretsDir: filepath.Join(dir, "secrets.d"),
		environ:    []string{"DB_PASSWORD=" + secretEnv, "EMPTY=", "STAGE=prod", "SECRETS_FILE=secrets"},
	}
	props := "# database\ndb.password=" + secretDBPassword + "\ndb.user = debezium\nurl=jdbc\\:postgresql://db/x\nprod.key=p\n"
	must(t, os.WriteFile(f.file, []byte(props), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "prod.properties"), []byte("pw=from-prod\n"), 0o600))
	must(t, os.Mkdir(f.secretsDir, 0o700))
	must(t, os.WriteFile(filepath.Join(f.secretsDir, "token"), []byte(secretToken), 0o600))
	must(t, os.WriteFile(filepath.Join(f.secretsDir, "with-newline"), []byte("line\n"), 0o600))
	must(t, os.Mkdir(filepath.Join(f.secretsDir, "subdir"), 0o700))
	must(t, os.Symlink(filepath.Join(f.secretsDir, "token"), filepath.Join(f.secretsDir, "link")))
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// resolverFor builds a resolver from worker properties text.
func resolverFor(t *testing.T, f fixture, text string) *Resolver {
	t.Helper()
	if text == "" {
		text = envFileProviders
	}
	w := parse(t, text)
	r, err := NewResolver(w, f.environ)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// envFileProviders enables the env and file providers, as the examples do.
const envFileProviders = "config.providers=env,file\n" +
	"config.providers.env.class=" + EnvVarProviderClass + "\n" +
	"config.providers.file.class=" + FileProviderClass + "\n"

const dirProviderConfig = "config.providers=env,file,directory\n" +
	"config.providers.env.class=" + EnvVarProviderClass + "\n" +
	"config.providers.file.class=" + FileProviderClass + "\n" +
	"config.providers.directory.class=" + DirectoryProviderClass + "\n"

func TestResolve(t *testing.T) {
	f := newFixture(t)
	r := resolverFor(t, f, dirProviderConfig)
	tests := []struct{ in, want string }{
		{"${env:DB_PASSWORD}", secretEnv},
		{"${env:EMPTY}", ""},
		{"${file:" + f.file + ":db.password}", secretDBPassword},
		{"${file:" + f.file + ":db.user}", "debezium"},
		{"${file:" + f.file + ":url}", "jdbc:postgresql://db/x"},
		{"${directory:" + f.secretsDir + ":token}", secretToken},
		{"${directory:" + f.secretsDir + ":link}", secretToken},
		{"${directory:" + f.secretsDir + ":with-newline}", "line\n"},
		// Several placeholders in one value, with text around them.
		{"user=${file:" + f.file + ":db.user} pass=${env:DB_PASSWORD}!", "user=debezium pass=" + secretEnv + "!"},
		{"${env:STAGE}${env:STAGE}", "prodprod"},
		// Nested in the path and in the key.
		{"${file:" + f.dir + "/${env:STAGE}.properties:pw}", "from-prod"},
		{"${file:" + f.file + ":${env:STAGE}.key}", "p"},
		{"${file:" + f.dir + "/${env:SECRETS_FILE}.properties:${file:" + f.file + ":db.user}}", "<missing>"},
		// Not placeholders: kept as written, as Kafka keeps them.
		{"plain", "plain"},
		{"${name}", "${name}"},
		{"$env:X", "$env:X"},
		{"${env:DB_PASSWORD", "${env:DB_PASSWORD"},
		{"$${env:STAGE}", "$prod"},
		{"{}${}", "{}${}"},
		{"${${env:STAGE}}", "${prod}"},
		{"${a${env:STAGE}:x", "${aprod:x"},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := r.Resolve(map[string]string{"p": tt.in})
		if tt.want == "<missing>" {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("Resolve(%q) = %v, %v; want ErrNotFound", tt.in, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.in, err)
			continue
		}
		if got["p"] != tt.want {
			t.Errorf("Resolve(%q) = %q, want %q", tt.in, got["p"], tt.want)
		}
	}
}

func TestResolveKeepsInput(t *testing.T) {
	f := newFixture(t)
	r := resolverFor(t, f, "")
	in := map[string]string{"database.password": "${env:DB_PASSWORD}", "name": "c"}
	out, err := r.Resolve(in)
	if err != nil {
		t.Fatal(err)
	}
	if in["database.password"] != "${env:DB_PASSWORD}" {
		t.Error("Resolve changed its input")
	}
	if !reflect.DeepEqual(out, map[string]string{"database.password": secretEnv, "name": "c"}) {
		t.Errorf("Resolve = %v", out)
	}
}

func TestResolveErrors(t *testing.T) {
	f := newFixture(t)
	r := resolverFor(t, f, dirProviderConfig+"config.providers.file.param.allowed.paths="+f.dir+"\n")
	missing := filepath.Join(f.dir, "missing.properties")
	tests := []struct {
		in, want string
		is       error
	}{
		{"${vault:secret/db:password}", `p: cannot resolve ${vault:secret/db:password}: unknown config provider "vault" (enabled: directory, env, file); a worker config enables one with config.providers and config.providers.<name>.class`, ErrUnknownProvider},
		{"${env:NOPE}", `p: cannot resolve ${env:NOPE}: environment variable not found`, ErrNotFound},
		{"${env:/x:DB_PASSWORD}", `p: cannot resolve ${env:/x:DB_PASSWORD}: the env provider takes no path; write ${env:NAME}`, nil},
		{"${file:" + f.file + ":nope}", `p: cannot resolve ${file:` + f.file + `:nope}: key not found in the file`, ErrNotFound},
		{"${file:" + missing + ":k}", `p: cannot resolve ${file:` + missing + `:k}: cannot read the file: no such file or directory`, os.ErrNotExist},
		{"${file:" + f.secretsDir + ":k}", `cannot read the file: not a regular file`, nil},
		{"${file:k}", `p: cannot resolve ${file:k}: a file is required; write ${file:/path/to/file.properties:key}`, nil},
		{"${file:/etc/passwd:root}", `p: cannot resolve ${file:/etc/passwd:root}: the file is outside the provider's allowed.paths`, nil},
		{"${file:" + f.dir + "/../x:k}", `the file is outside the provider's allowed.paths`, nil},
		{"${directory:" + f.secretsDir + ":nope}", `p: cannot resolve ${directory:` + f.secretsDir + `:nope}: file not found in the directory`, ErrNotFound},
		{"${directory:" + f.secretsDir + ":subdir}", `file not found in the directory`, ErrNotFound},
		{"${directory:" + f.dir + ":secrets.d/token}", `file not found in the directory`, ErrNotFound},
		{"${directory:" + f.dir + ":..}", `file not found in the directory`, ErrNotFound},
		{"${directory:" + f.file + ":x}", `the path is not a directory`, nil},
		{"${directory:" + missing + ":x}", `cannot read the directory: no such file or directory`, os.ErrNotExist},
		{"ok ${env:STAGE} then ${env:NOPE}", `p: cannot resolve ${env:NOPE}: environment variable not found`, ErrNotFound},
		{"${file:${env:NOPE}:k}", `p: cannot resolve ${env:NOPE}: environment variable not found`, ErrNotFound},
		{strings.Repeat("${file:", 10) + "x" + strings.Repeat(":k}", 10), `placeholders are nested more than 8 deep`, nil},
	}
	for _, tt := range tests {
		got, err := r.Resolve(map[string]string{"p": tt.in})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Resolve(%q) = %v, %v\nwant error %q", tt.in, got, err, tt.want)
			continue
		}
		if got != nil {
			t.Errorf("Resolve(%q) returned a map with its error", tt.in)
		}
		var re *ResolveError
		if !errors.As(err, &re) || re.Property != "p" {
			t.Errorf("Resolve(%q): %T is not a *ResolveError for p", tt.in, err)
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("Resolve(%q): %v is not %v", tt.in, err, tt.is)
		}
	}
}

func TestResolveRefusesSpecialFiles(t *testing.T) {
	r := resolverFor(t, newFixture(t), "")
	for _, path := range []string{"/dev/null", "/dev/zero"} {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		_, err := r.Resolve(map[string]string{"p": "${file:" + path + ":k}"})
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%s: %v", path, err)
		}
	}
}

func TestResolveReportsEveryProperty(t *testing.T) {
	r := resolverFor(t, newFixture(t), "")
	_, err := r.Resolve(map[string]string{"b": "${env:NOPE_B}", "a": "${env:NOPE_A}", "c": "fine"})
	want := "a: cannot resolve ${env:NOPE_A}: environment variable not found\n" +
		"b: cannot resolve ${env:NOPE_B}: environment variable not found"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

// TestNoProvidersByDefault: as in Kafka, a placeholder reads nothing
// unless config.providers enables its provider, so whoever may submit a
// connector config cannot read the worker's environment or files.
func TestNoProvidersByDefault(t *testing.T) {
	f := newFixture(t)
	for _, w := range []*Worker{nil, Default()} {
		r, err := NewResolver(w, f.environ)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Providers(); len(got) != 0 {
			t.Errorf("Providers() = %v, want none", got)
		}
		for _, v := range []string{"${env:DB_PASSWORD}", "${file:" + f.file + ":db.password}", "${directory:" + f.secretsDir + ":token}"} {
			got, err := r.Resolve(map[string]string{"database.password": v})
			if !errors.Is(err, ErrUnknownProvider) || !strings.Contains(err.Error(), "(none are enabled); a worker config enables one with config.providers") {
				t.Errorf("Resolve(%s) = %v, %v; want ErrUnknownProvider", v, got, err)
			}
			if err != nil && (strings.Contains(err.Error(), secretEnv) || strings.Contains(err.Error(), secretDBPassword)) {
				t.Errorf("error shows a secret: %v", err)
			}
		}
	}
	// Listed providers work, with their parameters.
	r := resolverFor(t, f, "")
	if got := r.Providers(); !reflect.DeepEqual(got, []string{"env", "file"}) {
		t.Errorf("Providers() = %v", got)
	}
	got, err := r.Resolve(map[string]string{"a": "${env:STAGE}", "b": "${file:" + f.file + ":db.user}"})
	if err != nil || got["a"] != "prod" || got["b"] != "debezium" {
		t.Errorf("Resolve = %v, %v", got, err)
	}
	if _, err := r.Resolve(map[string]string{"a": "${directory:" + f.secretsDir + ":token}"}); !errors.Is(err, ErrUnknownProvider) {
		t.Errorf("directory is not listed, got %v", err)
	}
	r = resolverFor(t, f, envFileProviders+"config.providers.env.param.allowlist.pattern=STAGE\n")
	if _, err := r.Resolve(map[string]string{"a": "${env:DB_PASSWORD}"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("allowlist.pattern ignored: %v", err)
	}
	// An empty config.providers enables nothing.
	r = resolverFor(t, f, "config.providers=\n")
	if _, err := r.Resolve(map[string]string{"a": "${env:STAGE}"}); err == nil || !strings.Contains(err.Error(), `unknown config provider "env" (none are enabled)`) {
		t.Errorf("got %v", err)
	}
	// Custom names work like Kafka's.
	r = resolverFor(t, f, "config.providers=secrets\nconfig.providers.secrets.class="+DirectoryProviderClass+"\n")
	if got, err := r.Resolve(map[string]string{"a": "${secrets:" + f.secretsDir + ":token}"}); err != nil || got["a"] != secretToken {
		t.Errorf("Resolve = %v, %v", got, err)
	}
}

func TestNewResolverErrors(t *testing.T) {
	w := Default()
	w.ConfigProviders = map[string]string{"vault": "com.example.Vault"}
	_, err := NewResolver(w, nil)
	if err == nil || !strings.Contains(err.Error(), `config.providers.vault.class: "com.example.Vault" is not a config provider pgmotion implements`) {
		t.Errorf("NewResolver = %v", err)
	}
}

// TestErrorsHideSecrets checks that no error of a failed resolution holds
// a value a provider returned, wherever the failure happens.
func TestErrorsHideSecrets(t *testing.T) {
	f := newFixture(t)
	f.environ = append(f.environ, "DIR_FROM_ENV="+f.dir+"/"+secretEnv, "KEY_FROM_ENV="+secretEnv)
	r := resolverFor(t, f, dirProviderConfig)
	file := "${file:" + f.file + ":db.password}"
	token := "${directory:" + f.secretsDir + ":token}"
	values := []string{
		file + "${env:NOPE}",
		"${env:DB_PASSWORD}-${vault:x:y}",
		token + " " + file + " ${file:" + f.file + ":missing}",
		"${file:${env:DIR_FROM_ENV}:k}",
		"${file:" + f.file + ":${env:KEY_FROM_ENV}}",
		"${directory:${env:DIR_FROM_ENV}:x}",
		"${directory:" + f.secretsDir + ":${env:KEY_FROM_ENV}}",
		"${env:${file:" + f.file + ":db.password}}",
		"${env:/${directory:" + f.secretsDir + ":token}:x}",
	}
	for _, v := range values {
		_, err := r.Resolve(map[string]string{"database.password": v, "other": file})
		if err == nil {
			t.Errorf("Resolve(%q) succeeded", v)
			continue
		}
		for _, secret := range []string{secretDBPassword, secretToken, secretEnv} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("Resolve(%q): error %q holds a secret", v, err)
			}
		}
		if !strings.Contains(err.Error(), "database.password: cannot resolve ${") {
			t.Errorf("Resolve(%q): error %q does not name the property and placeholder", v, err)
		}
	}
}

// kafkaPattern is ConfigTransformer.DEFAULT_PATTERN; Go's leftmost-first
// matching of it agrees with Java's.
const kafkaPattern = `\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}`

func TestParsePlaceholderMatchesKafka(t *testing.T) {
	for _, s := range []string{
		"${a:b}", "${a:b:c}", "${a:b:c:d}", "${file:C:/x:key}", "${:k}", "${a::}", "${a:}", "${ a : b : c }",
		"${a:b}}", "${a{b:c}", "${a:b{c}", "${a:b$c}", "${a:b$}",
	} {
		ph, ok := parsePlaceholder(s)
		m := regexp.MustCompile(kafkaPattern).FindStringSubmatch(s)
		if !ok || m == nil {
			t.Errorf("%q: ok=%v kafka=%v", s, ok, m)
			continue
		}
		if got, want := []string{ph.raw, ph.provider, ph.path, ph.key}, []string{m[0], m[1], m[3], m[4]}; !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %q, Kafka %q", s, got, want)
		}
	}
	for _, s := range []string{"${a}", "${a", "${}", "${${env:X}}"} {
		if ph, ok := parsePlaceholder(s); ok {
			t.Errorf("%q parsed as %+v", s, ph)
		}
	}
}

// TestScrubber: every value a provider returned is replaced by its
// placeholder in a text, the longest first; short values and
// unresolvable placeholders are left alone.
func TestScrubber(t *testing.T) {
	f := newFixture(t)
	f.environ = append(f.environ, "PG_USER=app_prod", "PG_USER_LONG=app_prod_reader", "ONE=1")
	r := resolverFor(t, f, "")
	scrub := r.Scrubber(map[string]string{
		"database.user":     "${env:PG_USER}",
		"database.password": "${file:" + f.file + ":db.password}",
		"a":                 "x-${env:PG_USER_LONG}-y",
		"b":                 "${env:ONE}",
		"c":                 "${env:NOPE}",
		"d":                 "plain",
	})
	in := `password authentication failed for user "app_prod" (pw ` + secretDBPassword + `); reader app_prod_reader; port 1`
	want := `password authentication failed for user "${env:PG_USER}" (pw ${file:` + f.file + `:db.password}); reader ${env:PG_USER_LONG}; port 1`
	if got := scrub(in); got != want {
		t.Errorf("scrub =\n%s\nwant\n%s", got, want)
	}
	if got := (*Resolver)(nil).Scrubber(map[string]string{"a": "${env:PG_USER}"})("app_prod"); got != "app_prod" {
		t.Errorf("nil resolver: %q", got)
	}
}
