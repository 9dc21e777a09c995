package rest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pgmotion/pgmotion/internal/connect"
	"github.com/pgmotion/pgmotion/internal/options"
)

// plugins lists connector plugins; connectorsOnly defaults to true.
func (h *handler) plugins(_ context.Context, c *call) (*reply, error) {
	all := !boolParam(c.query, "connectorsOnly", true)
	ps := h.herder.Plugins(all)
	if all {
		ps = withRegisteredPlugins(ps)
	}
	if ps == nil {
		ps = []connect.PluginInfo{}
	}
	return ok(ps)
}

// pluginTypeOrder is the order of ConnectorPluginsResource's list: sink
// and source connectors, converters, header converters, transformations,
// predicates, each by class name.
var pluginTypeOrder = map[string]int{"sink": 0, "source": 1, "converter": 2, "header_converter": 3, "transformation": 4, "predicate": 5}

// withRegisteredPlugins adds to the herder's list the registered plugins
// of the other types (transformations and predicates, declared in
// internal/options) that it left out, and orders the list as Kafka Connect
// does.
func withRegisteredPlugins(ps []connect.PluginInfo) []connect.PluginInfo {
	have := make(map[string]bool, len(ps))
	for _, p := range ps {
		have[p.Class] = true
	}
	for _, s := range options.All() {
		if _, known := pluginTypeOrder[s.Type]; known && !have[s.Class] {
			ps = append(ps, connect.PluginInfo{Class: s.Class, Type: s.Type, Version: s.Version})
		}
	}
	slices.SortStableFunc(ps, func(a, b connect.PluginInfo) int {
		if d := pluginTypeOrder[a.Type] - pluginTypeOrder[b.Type]; d != 0 {
			return d
		}
		return strings.Compare(a.Class, b.Class)
	})
	return ps
}

func (h *handler) pluginConfig(_ context.Context, c *call) (*reply, error) {
	keys, err := h.herder.PluginConfig(c.plugin)
	if err != nil {
		return nil, err
	}
	if keys == nil {
		keys = []options.ConfigKeyInfo{}
	}
	return ok(keys)
}

// msgNullValue is Kafka Connect's validation error for a null value.
const msgNullValue = "Null value can not be supplied as the configuration value."

// validate is PUT /connector-plugins/{plugin}/config/validate. As in Kafka
// Connect the body's connector.class picks the plugin and must match the
// one in the URL; null values are validation errors.
func (h *handler) validate(ctx context.Context, c *call) (*reply, error) {
	raw, err := parseNullableConfig(c.body)
	if err != nil {
		return nil, err
	}
	cfg := make(map[string]string, len(raw))
	var nulls []string
	for k, v := range raw {
		if v == nil {
			nulls = append(nulls, k)
			continue
		}
		cfg[k] = *v
	}
	slices.Sort(nulls)
	class, hasClass := cfg[options.PropConnectorClass]
	if !hasClass {
		return nil, connect.BadRequestf("Connector config %s contains no connector type", javaMap(raw))
	}
	if !classMatches(class, c.plugin) {
		return nil, connect.BadRequestf("Included connector type %s does not match request type %s", class, c.plugin)
	}
	if s, found := options.Lookup(class); found && s.Type != "source" && s.Type != "sink" {
		// A transformation or predicate: only connectors are validated.
		//lint:ignore ST1005 Kafka Connect's exact text
		return nil, fmt.Errorf("Failed to find any class that implements Connector and which name matches %s", class)
	}
	infos, err := h.herder.Validate(ctx, class, cfg)
	if err != nil {
		return nil, err
	}
	if infos == nil {
		return nil, errors.New("the herder returned no validation result")
	}
	out := maskConfigInfos(infos, cfg)
	addNullErrors(out, nulls)
	return ok(out)
}

// classMatches applies Kafka Connect's rule (the included class, less a
// "Connector" suffix, ends with the requested plugin name, less that
// suffix) and also accepts any two names of one registered plugin.
func classMatches(included, plugin string) bool {
	if strings.HasSuffix(normalPluginName(included), normalPluginName(plugin)) {
		return true
	}
	a, okA := options.Lookup(included)
	b, okB := options.Lookup(plugin)
	return okA && okB && a == b
}

func normalPluginName(n string) string {
	const suffix = "Connector"
	if len(n) > len(suffix) && strings.HasSuffix(n, suffix) {
		return n[:len(n)-len(suffix)]
	}
	return n
}

// addNullErrors reports null values in the validation response, as
// AbstractHerder does: on the option's entry, or on a new one.
func addNullErrors(ci *options.ConfigInfos, nulls []string) {
	for _, k := range nulls {
		ci.ErrorCount++
		found := false
		for i, c := range ci.Configs {
			if c.Value != nil && c.Value.Name == k {
				v := *c.Value
				v.Value = nil
				v.Errors = append(slices.Clip(v.Errors), msgNullValue)
				ci.Configs[i].Value = &v
				found = true
				break
			}
		}
		if !found {
			ci.Configs = append(ci.Configs, options.ConfigInfo{Value: &options.ConfigValueInfo{
				Name: k, RecommendedValues: []string{}, Errors: []string{msgNullValue}, Visible: true,
			}})
		}
	}
}

// javaMap renders a config as java.util.Map.toString does, sorted and
// with secrets masked.
func javaMap(cfg map[string]*string) string {
	flat := make(map[string]string, len(cfg))
	for k, v := range cfg {
		if v != nil {
			flat[k] = *v
		}
	}
	keys := slices.Sorted(maps.Keys(cfg))
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		v := "null"
		if cfg[k] != nil {
			v = options.MaskValue(k, *cfg[k], func(k string) bool { return options.SecretIn(flat, k) })
		}
		fmt.Fprintf(&b, "%s=%s", k, v)
	}
	b.WriteByte('}')
	return b.String()
}
