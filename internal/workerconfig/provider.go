package workerconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// The config provider classes pgmotion implements, by their Kafka names.
const (
	FileProviderClass      = "org.apache.kafka.common.config.provider.FileConfigProvider"
	EnvVarProviderClass    = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
	DirectoryProviderClass = "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
)

// The parameters the providers take, as
// config.providers.<name>.param.<parameter>.
const (
	paramAllowedPaths     = "allowed.paths"     // FileConfigProvider, DirectoryConfigProvider
	paramAllowlistPattern = "allowlist.pattern" // EnvVarConfigProvider
)

var (
	// ErrUnknownProvider is the cause of a ResolveError for a placeholder
	// whose provider is not enabled.
	ErrUnknownProvider = errors.New("unknown config provider")
	// ErrNotFound is the cause of a ResolveError for a key the provider
	// does not have: an unset environment variable, a key missing from
	// the properties file, a missing file in the directory.
	ErrNotFound = errors.New("not found")
)

// maxNesting bounds placeholders inside placeholders.
const maxNesting = 8

// ResolveError reports a placeholder that could not be resolved. Its text
// names the property and quotes the placeholder as written in the
// configuration; it never contains a resolved value.
type ResolveError struct {
	Property    string // the configuration key whose value holds the placeholder
	Placeholder string // as written, e.g. ${file:/run/secrets/db.properties:password}
	Err         error  // why; wraps ErrUnknownProvider or ErrNotFound when that is the cause
}

func (e *ResolveError) Error() string {
	return fmt.Sprintf("%s: cannot resolve %s: %v", e.Property, e.Placeholder, e.Err)
}

func (e *ResolveError) Unwrap() error { return e.Err }

// Resolver replaces KIP-297 placeholders, ${provider:[path:]key}, in
// configuration values. It is safe for concurrent use.
//
// The providers are those of the worker config, as in Kafka: the names in
// config.providers whose config.providers.<name>.class is one of
// FileProviderClass, EnvVarProviderClass and DirectoryProviderClass, with
// their config.providers.<name>.param.* parameters. As in Kafka, no
// provider is enabled unless config.providers lists it: a placeholder
// reads nothing from the environment or the file system until the
// operator enables the provider it names, for example
//
//	config.providers=env,file
//	config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
//	config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
//
// (or PGMOTION_CONFIG_PROVIDERS=env with
// PGMOTION_CONFIG_PROVIDERS_ENV_CLASS=… in the environment).
//
//   - ${env:NAME} is the environment variable NAME; a path is an error.
//     Parameter allowlist.pattern limits the variables to those whose
//     whole name matches the regular expression (Go syntax, which agrees
//     with Java's for ordinary patterns).
//   - ${file:/path/file.properties:key} is key in that properties file,
//     read with ReadProperties (as UTF-8, or ISO-8859-1 when it is not
//     valid UTF-8, where Kafka fails).
//   - ${directory:/path/dir:name} is the content of the regular file name
//     in that directory, byte for byte (a trailing newline is kept, as in
//     Kafka); symbolic links are followed, as for Kubernetes secret mounts.
//
// Parameter allowed.paths (comma-separated absolute paths that must exist)
// limits the file and directory providers to paths under them. Both read
// only regular files of up to 4 MiB, where Kafka opens anything, so that a
// placeholder naming a FIFO or /dev/zero fails instead of hanging.
//
// Whoever may submit connector configs can read, through an enabled
// provider, any environment variable and any file the pgmotion process
// can (Kafka has the same exposure); restrict them with allowlist.pattern
// and allowed.paths. A resolved value never appears in an error, a task's
// status trace or a validation message: the connector's errors are
// scrubbed of it (see Scrub).
//
// Where Kafka's ConfigTransformer keeps a placeholder it cannot resolve
// as literal text (unknown provider, missing key, path outside
// allowed.paths), pgmotion fails with a ResolveError: a connector running
// with the text "${file:/x:password}" as its password is worse than one
// that does not start. Text that is not a placeholder, such as ${name}
// with no colon, is kept as Kafka keeps it. A placeholder may also appear
// inside the path or key of another one (${file:/etc/${env:STAGE}.properties:pw});
// Kafka's pattern does not allow that. Resolved values are never scanned
// for placeholders again.
type Resolver struct {
	providers map[string]provider
}

// provider looks key up at path. Its errors describe the failure without
// the path, key or anything read: the placeholder shows path and key, and
// they may come from a nested placeholder.
type provider interface {
	get(path, key string, x *expander) (string, error)
}

// NewResolver builds the providers that w configures (w may be nil: no
// provider) reading environment variables from environ, as os.Environ
// returns it.
func NewResolver(w *Worker, environ []string) (*Resolver, error) {
	providers, errs := buildProviders(w, environ)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Resolver{providers: providers}, nil
}

// Providers returns the names of the enabled providers, sorted.
func (r *Resolver) Providers() []string {
	if r == nil {
		return nil
	}
	names := make([]string, 0, len(r.providers))
	for n := range r.providers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Resolve returns a new map with every placeholder in config's values
// replaced. The caller keeps config itself, unresolved, for GET config.
// On error it returns nil and every ResolveError found, joined.
func (r *Resolver) Resolve(config map[string]string) (map[string]string, error) {
	keys := make([]string, 0, len(config))
	for k := range config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	x := &expander{r: r}
	out := make(map[string]string, len(config))
	var errs []error
	for _, k := range keys {
		v, err := x.expand(k, config[k], 0)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[k] = v
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// resolveValue resolves the placeholders in one value of property key.
func (r *Resolver) resolveValue(key, value string) (string, error) {
	x := &expander{r: r}
	return x.expand(key, value, 0)
}

// expander resolves the values of one Resolve call; it reads each
// properties file once per call.
type expander struct {
	r     *Resolver
	files map[string]fileContent
	// seen, when not nil, collects each value a provider returned with
	// the placeholder as written.
	seen map[string]string
}

type fileContent struct {
	props map[string]string
	err   error
}

// placeholder is ${provider:[path:]key} as written.
type placeholder struct {
	raw, provider, path, key string
}

// parsePlaceholder parses the placeholder at the start of s, which begins
// with "${". Without nesting it agrees with ConfigTransformer's pattern
// \$\{([^}]*?):(([^}]*?):)?([^}]*?)\}: the provider ends at the first
// colon, the path at the second, and the key (which may hold colons) at
// the closing brace. Placeholders nested in the path or key are skipped
// over whole. ok is false when s does not start a placeholder: no closing
// brace, no colon before it, or a "${" inside the provider name.
func parsePlaceholder(s string) (ph placeholder, ok bool) {
	depth, c1, c2 := 0, -1, -1
	for p := 2; p < len(s); p++ {
		switch c := s[p]; {
		case c == '$' && p+1 < len(s) && s[p+1] == '{':
			if c1 < 0 {
				return placeholder{}, false
			}
			depth++
			p++
		case c == '}':
			if depth > 0 {
				depth--
				continue
			}
			if c1 < 0 {
				return placeholder{}, false
			}
			ph = placeholder{raw: s[:p+1], provider: s[2:c1]}
			if c2 < 0 {
				ph.key = s[c1+1 : p]
			} else {
				ph.path, ph.key = s[c1+1:c2], s[c2+1:p]
			}
			return ph, true
		case c == ':' && depth == 0:
			if c1 < 0 {
				c1 = p
			} else if c2 < 0 {
				c2 = p
			}
		}
	}
	return placeholder{}, false
}

func (x *expander) expand(prop, s string, depth int) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		j := strings.Index(s, "${")
		if j < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:j])
		ph, ok := parsePlaceholder(s[j:])
		if !ok {
			b.WriteString("${")
			s = s[j+2:]
			continue
		}
		v, err := x.resolve(prop, ph, depth)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
		s = s[j+len(ph.raw):]
	}
}

func (x *expander) resolve(prop string, ph placeholder, depth int) (string, error) {
	fail := func(err error) error { return &ResolveError{Property: prop, Placeholder: ph.raw, Err: err} }
	if depth >= maxNesting {
		return "", fail(fmt.Errorf("placeholders are nested more than %d deep", maxNesting))
	}
	path, err := x.expand(prop, ph.path, depth+1)
	if err != nil {
		return "", err
	}
	key, err := x.expand(prop, ph.key, depth+1)
	if err != nil {
		return "", err
	}
	var p provider
	if x.r != nil {
		p = x.r.providers[ph.provider]
	}
	if p == nil {
		enabled := "none are enabled"
		if names := x.r.Providers(); len(names) > 0 {
			enabled = "enabled: " + strings.Join(names, ", ")
		}
		return "", fail(fmt.Errorf("%w %q (%s); a worker config enables one with config.providers and config.providers.<name>.class",
			ErrUnknownProvider, ph.provider, enabled))
	}
	v, err := p.get(path, key, x)
	if err != nil {
		return "", fail(err)
	}
	if x.seen != nil {
		x.seen[v] = ph.raw
	}
	return v, nil
}

// minScrubbed is the shortest provider value Scrubber hides: replacing
// every "1" or "on" in a message would garble it, for next to nothing.
const minScrubbed = 3

// Scrubber returns a function that replaces, in a text, every value the
// providers return for config's placeholders with the placeholder as
// written (values shorter than three bytes are left alone: hiding each
// "1" would garble the text and hide nothing). Errors, status traces and
// log lines of a connector go through it, so that
//
//	password authentication failed for user "app_prod"
//
// reads "... for user "${env:PG_USER}"" when database.user is that
// placeholder. Placeholders that do not resolve are skipped. A nil
// Resolver, or a config without placeholders, returns the identity.
func (r *Resolver) Scrubber(config map[string]string) func(string) string {
	if r == nil {
		return func(s string) string { return s }
	}
	x := &expander{r: r, seen: map[string]string{}}
	for k, v := range config {
		_, _ = x.expand(k, v, 0) // an unresolvable value has no secret to hide
	}
	values := make([]string, 0, len(x.seen))
	for v := range x.seen {
		if len(v) >= minScrubbed {
			values = append(values, v)
		}
	}
	if len(values) == 0 {
		return func(s string) string { return s }
	}
	// Longest first: strings.Replacer tries its pairs in order, so a
	// value that contains another is replaced whole.
	sort.Slice(values, func(i, j int) bool {
		if len(values[i]) != len(values[j]) {
			return len(values[i]) > len(values[j])
		}
		return values[i] < values[j]
	})
	pairs := make([]string, 0, 2*len(values))
	for _, v := range values {
		pairs = append(pairs, v, x.seen[v])
	}
	rep := strings.NewReplacer(pairs...)
	return rep.Replace
}

// providerConfigError reports a bad config.providers.* property.
type providerConfigError struct {
	property, problem string
}

func (e *providerConfigError) Error() string { return e.property + ": " + e.problem }

// buildProviders instantiates the providers w configures; none when w is
// nil or lists none in config.providers.
func buildProviders(w *Worker, environ []string) (map[string]provider, []error) {
	var classes map[string]string
	if w != nil {
		classes = w.ConfigProviders
	}
	names := make([]string, 0, len(classes))
	for n := range classes {
		names = append(names, n)
	}
	sort.Strings(names)
	providers := map[string]provider{}
	var errs []error
	for _, name := range names {
		class := classes[name]
		if class == "" {
			continue // listed without a class: Kafka skips it too
		}
		params := map[string]string{}
		if w != nil {
			prefix := providerParamPrefix(name)
			for k, v := range w.providerProps {
				if p, ok := strings.CutPrefix(k, prefix); ok {
					params[p] = v
				}
			}
		}
		p, err := newProvider(name, class, params, environ)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		providers[name] = p
	}
	return providers, errs
}

func newProvider(name, class string, params map[string]string, environ []string) (provider, error) {
	switch class {
	case EnvVarProviderClass:
		p := &envProvider{vars: map[string]string{}}
		for _, kv := range environ {
			if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
				p.vars[k] = v
			}
		}
		if pat, ok := params[paramAllowlistPattern]; ok {
			re, err := regexp.Compile(`^(?:` + pat + `)$`)
			if err != nil {
				return nil, &providerConfigError{providerParamPrefix(name) + paramAllowlistPattern,
					fmt.Sprintf("is not a regular expression: %v", err)}
			}
			p.allow = re
		}
		return p, nil
	case FileProviderClass, DirectoryProviderClass:
		allowed, err := parseAllowedPaths(params[paramAllowedPaths])
		if err != nil {
			return nil, &providerConfigError{providerParamPrefix(name) + paramAllowedPaths, err.Error()}
		}
		if class == FileProviderClass {
			return &fileProvider{allowed: allowed}, nil
		}
		return &dirProvider{allowed: allowed}, nil
	}
	return nil, &providerConfigError{providerClassKey(name), fmt.Sprintf(
		"%q is not a config provider pgmotion implements; use %s, %s or %s", class,
		FileProviderClass, EnvVarProviderClass, DirectoryProviderClass)}
}

type envProvider struct {
	vars  map[string]string
	allow *regexp.Regexp
}

func (p *envProvider) get(path, key string, _ *expander) (string, error) {
	if path != "" {
		return "", errors.New("the env provider takes no path; write ${env:NAME}")
	}
	v, ok := p.vars[key]
	if p.allow != nil && !p.allow.MatchString(key) {
		return "", fmt.Errorf("environment variable %w (or not allowed by %s)", ErrNotFound, paramAllowlistPattern)
	}
	if !ok {
		return "", fmt.Errorf("environment variable %w", ErrNotFound)
	}
	return v, nil
}

type fileProvider struct{ allowed []string }

func (p *fileProvider) get(path, key string, x *expander) (string, error) {
	if path == "" {
		return "", errors.New("a file is required; write ${file:/path/to/file.properties:key}")
	}
	if !pathAllowed(p.allowed, path) {
		return "", fmt.Errorf("the file is outside the provider's %s", paramAllowedPaths)
	}
	if x.files == nil {
		x.files = map[string]fileContent{}
	}
	fc, ok := x.files[path]
	if !ok {
		fc = readPropertiesFile(path)
		x.files[path] = fc
	}
	if fc.err != nil {
		return "", fc.err
	}
	v, ok := fc.props[key]
	if !ok {
		return "", fmt.Errorf("key %w in the file", ErrNotFound)
	}
	return v, nil
}

func readPropertiesFile(path string) fileContent {
	data, err := readSecretFile(path)
	if err != nil {
		return fileContent{err: err}
	}
	props, err := ReadProperties(bytes.NewReader(data))
	if err != nil {
		return fileContent{err: fmt.Errorf("cannot read the file: %w", err)}
	}
	m := make(map[string]string, len(props))
	for _, p := range props {
		m[p.Key] = p.Value
	}
	return fileContent{props: m}
}

type dirProvider struct{ allowed []string }

func (p *dirProvider) get(dir, key string, _ *expander) (string, error) {
	if dir == "" {
		return "", errors.New("a directory is required; write ${directory:/path/to/dir:file}")
	}
	if !pathAllowed(p.allowed, dir) {
		return "", fmt.Errorf("the directory is outside the provider's %s", paramAllowedPaths)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("cannot read the directory: %w", osCause(err))
	}
	if !st.IsDir() {
		return "", errors.New("the path is not a directory")
	}
	// Kafka lists the directory and matches file names, so a key naming
	// anything but a regular file directly inside it is simply absent.
	if key == "" || key == "." || key == ".." || strings.ContainsAny(key, `/`+string(filepath.Separator)) {
		return "", fmt.Errorf("file %w in the directory", ErrNotFound)
	}
	name := filepath.Join(dir, key)
	if st, err := os.Stat(name); err != nil || !st.Mode().IsRegular() {
		return "", fmt.Errorf("file %w in the directory", ErrNotFound)
	}
	data, err := readSecretFile(name)
	if err != nil {
		return "", err
	}
	// Java decodes the bytes as UTF-8, replacing malformed sequences.
	return strings.ToValidUTF8(string(data), "\uFFFD"), nil
}

// maxSecretFile bounds what a provider reads from one file.
const maxSecretFile = 4 << 20

// readSecretFile reads a regular file (following symbolic links) of at
// most maxSecretFile bytes. Unlike Kafka, which opens whatever the path
// names, it refuses devices and FIFOs, which could block or never end.
func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", osCause(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", osCause(err))
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("cannot read the file: not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", osCause(err))
	}
	if len(data) > maxSecretFile {
		return nil, fmt.Errorf("cannot read the file: larger than %d MiB", maxSecretFile>>20)
	}
	return data, nil
}

// osCause strips the path from an *fs.PathError: the path may come from a
// nested placeholder, and the placeholder already shows it.
func osCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseAllowedPaths reads allowed.paths as Kafka's AllowedPaths does:
// comma-separated, each normalised, absolute and existing; empty means
// every path is allowed (nil).
func parseAllowedPaths(v string) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var paths []string
	for _, p := range strings.Split(v, ",") {
		p = filepath.Clean(strings.TrimSpace(p))
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("path %s is not absolute", p)
		}
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("path %s does not exist", p)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// pathAllowed is AllowedPaths.parseUntrustedPath: the normalised path must
// be one of the allowed paths or lie under one, component by component.
func pathAllowed(allowed []string, path string) bool {
	if allowed == nil {
		return true
	}
	p := filepath.Clean(path)
	for _, a := range allowed {
		if p == a || strings.HasPrefix(p, strings.TrimSuffix(a, string(filepath.Separator))+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
