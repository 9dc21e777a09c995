package rest

import (
	"strings"

	"github.com/pgmotion/pgmotion/internal/connect"
	"github.com/pgmotion/pgmotion/internal/options"
)

// Secrets never leave the REST API: every config in a response goes
// through maskConfig. Kafka Connect returns configs as stored; pgmotion
// hides the values of secret options as Kafka hides PASSWORD values in
// its validation response, and the passwords of URLs in other values
// (options.MaskValue). Masking a masked config changes nothing.

// maskConfig returns a copy of cfg with secret values replaced by
// "[hidden]"; a nil config becomes an empty one.
func maskConfig(cfg map[string]string) map[string]string {
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		out[k] = options.MaskValue(k, v, func(k string) bool { return secretKey(cfg, k) })
	}
	return out
}

// converterProps name converter classes; keys under them configure the
// converter.
var converterProps = []string{options.PropKeyConverter, options.PropValueConverter, options.PropHeaderConverter}

// secretKey reports whether key holds a secret in cfg: it looks like one
// (options.SensitiveKey), or the connector's spec declares it secret, or it
// configures a transform, predicate or converter whose spec does.
func secretKey(cfg map[string]string, key string) bool {
	if options.SensitiveKey(key) || declaredSecret(cfg[options.PropConnectorClass], key, true) {
		return true
	}
	for _, family := range []string{options.PropTransforms + ".", options.PropPredicates + "."} {
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
	if s, ok := options.Lookup(class); ok {
		return specSecret(s, prop)
	}
	if !anyConnector {
		return false
	}
	for _, s := range options.All() {
		if (s.Type == "source" || s.Type == "sink") && specSecret(s, prop) {
			return true
		}
	}
	return false
}

func specSecret(s *options.Spec, prop string) bool {
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

// maskInfo returns a copy of ci with its config masked and nil lists
// made empty, as Kafka Connect shows them.
func maskInfo(ci *connect.ConnectorInfo) *connect.ConnectorInfo {
	if ci == nil {
		return nil
	}
	out := *ci
	out.Config = maskConfig(ci.Config)
	if out.Tasks == nil {
		out.Tasks = []connect.TaskID{}
	}
	return &out
}

// maskTasks returns copies of the task infos with their configs masked.
func maskTasks(tasks []connect.TaskInfo) []connect.TaskInfo {
	out := make([]connect.TaskInfo, len(tasks))
	for i, t := range tasks {
		out[i] = connect.TaskInfo{ID: t.ID, Config: maskConfig(t.Config)}
	}
	return out
}

// maskConfigInfos masks the values of a validation response whose
// definition is a PASSWORD or that are secret in cfg, the validated
// config. It copies what it changes.
func maskConfigInfos(ci *options.ConfigInfos, cfg map[string]string) *options.ConfigInfos {
	out := *ci
	out.Configs = make([]options.ConfigInfo, len(ci.Configs))
	for i, c := range ci.Configs {
		out.Configs[i] = c
		if c.Value == nil || c.Value.Value == nil || *c.Value.Value == options.Hidden {
			continue
		}
		secret := secretKey(cfg, c.Value.Name) ||
			c.Definition != nil && c.Definition.Type == options.TypePassword.String()
		shown := options.MaskValue(c.Value.Name, *c.Value.Value, func(string) bool { return secret })
		if shown != *c.Value.Value {
			v := *c.Value
			v.Value = &shown
			out.Configs[i].Value = &v
		}
	}
	if out.Groups == nil {
		out.Groups = []string{}
	}
	return &out
}
