package options

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

var registry = struct {
	sync.RWMutex
	specs []*Spec
	names map[string]*Spec // class and aliases
}{names: map[string]*Spec{}}

// Register adds s to the registry. It is meant for init(); it panics when the
// spec is inconsistent (a default that fails its own validation, a duplicate
// name, an undeclared dependent) or when a class or alias is already taken,
// because both are programming errors.
func Register(s *Spec) {
	if err := s.selfCheck(); err != nil {
		panic(fmt.Sprintf("spec.Register(%s): %v", s.Class, err))
	}
	registry.Lock()
	defer registry.Unlock()
	for _, n := range append([]string{s.Class}, s.Aliases...) {
		if _, dup := registry.names[n]; dup {
			panic(fmt.Sprintf("spec.Register(%s): %q is already registered", s.Class, n))
		}
	}
	for _, n := range append([]string{s.Class}, s.Aliases...) {
		registry.names[n] = s
	}
	registry.specs = append(registry.specs, s)
}

// unregister removes a spec; tests use it to keep the registry clean.
func unregister(class string) {
	registry.Lock()
	defer registry.Unlock()
	for i, s := range registry.specs {
		if s.Class == class {
			registry.specs = append(registry.specs[:i:i], registry.specs[i+1:]...)
			for n, v := range registry.names {
				if v == s {
					delete(registry.names, n)
				}
			}
			return
		}
	}
}

// Lookup returns the spec registered under a class name or alias. Matching is
// exact, as in Kafka Connect.
func Lookup(classOrAlias string) (*Spec, bool) {
	registry.RLock()
	defer registry.RUnlock()
	s, ok := registry.names[classOrAlias]
	return s, ok
}

// All returns the registered specs sorted by class name.
func All() []*Spec {
	registry.RLock()
	out := append([]*Spec(nil), registry.specs...)
	registry.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Class < out[j].Class })
	return out
}

// ofType returns the registered specs of one plugin type.
func ofType(typ string) []*Spec {
	var out []*Spec
	for _, s := range All() {
		if s.Type == typ {
			out = append(out, s)
		}
	}
	return out
}

// selfCheck verifies the declarations and builds the indexes.
func (s *Spec) selfCheck() error {
	if s.Class == "" || s.Type == "" {
		return fmt.Errorf("class and type are required")
	}
	s.build()
	seen := map[string]bool{}
	var problems []string
	for _, f := range s.Fields {
		if f.Name == "" || f.Type == 0 || f.Importance == 0 {
			problems = append(problems, fmt.Sprintf("field %q: name, type and importance are required", f.Name))
			continue
		}
		if seen[f.Name] {
			problems = append(problems, fmt.Sprintf("field %q declared twice", f.Name))
		}
		seen[f.Name] = true
		for _, a := range f.Aliases {
			if seen[a] {
				problems = append(problems, fmt.Sprintf("alias %q of %q is already a name", a, f.Name))
			}
			seen[a] = true
		}
		for _, d := range f.Dependents {
			if _, ok := s.byName[d]; !ok {
				problems = append(problems, fmt.Sprintf("field %q: dependent %q is not declared", f.Name, d))
			}
		}
	}
	// Every default must pass its own validation, as Kafka's ConfigKey
	// constructor demands.
	defaults := map[string]string{}
	for _, f := range s.Fields {
		if f.HasDefault() {
			defaults[f.Name] = f.Default
		}
	}
	ev := s.evaluate(defaults, false)
	for _, r := range ev.results {
		if !r.set {
			continue
		}
		for _, e := range r.errors {
			problems = append(problems, fmt.Sprintf("default of %q is invalid: %s", r.f.Name, e))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}
