package rest

import (
	"github.com/pgmotion/pgmotion/internal/connect"
	"github.com/pgmotion/pgmotion/internal/options"
)

// Secrets never leave the REST API: every config in a response goes
// through options.MaskConfig. Kafka Connect returns configs as stored; pgmotion
// hides the values of secret options as Kafka hides PASSWORD values in
// its validation response, and the passwords of URLs in other values
// (options.MaskValue). Masking a masked config changes nothing.

// maskInfo returns a copy of ci with its config masked and nil lists
// made empty, as Kafka Connect shows them.
func maskInfo(ci *connect.ConnectorInfo) *connect.ConnectorInfo {
	if ci == nil {
		return nil
	}
	out := *ci
	out.Config = options.MaskConfig(ci.Config)
	if out.Tasks == nil {
		out.Tasks = []connect.TaskID{}
	}
	return &out
}

// maskTasks returns copies of the task infos with their configs masked.
func maskTasks(tasks []connect.TaskInfo) []connect.TaskInfo {
	out := make([]connect.TaskInfo, len(tasks))
	for i, t := range tasks {
		out[i] = connect.TaskInfo{ID: t.ID, Config: options.MaskConfig(t.Config)}
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
		secret := options.SecretIn(cfg, c.Value.Name) ||
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
