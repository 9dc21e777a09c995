package options

// ConfigInfos is Kafka Connect's response to
// PUT /connector-plugins/{class}/config/validate.
type ConfigInfos struct {
	Name       string       `json:"name"`
	ErrorCount int          `json:"error_count"`
	Groups     []string     `json:"groups"`
	Configs    []ConfigInfo `json:"configs"`
}

// ConfigInfo pairs a definition with the validated value. Either may be null
// in Kafka; here Definition is null only for undeclared properties that carry
// an error.
type ConfigInfo struct {
	Definition *ConfigKeyInfo   `json:"definition"`
	Value      *ConfigValueInfo `json:"value"`
}

// ConfigKeyInfo is one option definition, as in
// GET /connector-plugins/{class}/config. Field order follows Kafka's Jackson
// output, where "order" comes last.
type ConfigKeyInfo struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Required      bool     `json:"required"`
	DefaultValue  *string  `json:"default_value"`
	Importance    string   `json:"importance"`
	Documentation string   `json:"documentation"`
	Group         *string  `json:"group"`
	Width         string   `json:"width"`
	DisplayName   string   `json:"display_name"`
	Dependents    []string `json:"dependents"`
	Order         int      `json:"order"`
}

// ConfigValueInfo is one validated value.
type ConfigValueInfo struct {
	Name              string   `json:"name"`
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	Visible           bool     `json:"visible"`
}

// Err returns the *ValidationError matching the response, or nil when it has
// no errors.
func (ci ConfigInfos) Err() error {
	var ps []Problem
	for _, c := range ci.Configs {
		if c.Value == nil {
			continue
		}
		for _, e := range c.Value.Errors {
			ps = append(ps, Problem{Field: c.Value.Name, Message: e})
		}
	}
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Problems: ps}
}

// Validate validates raw and returns Kafka Connect's ConfigInfos: every
// declared option (plus those Enrich adds for this configuration) with its
// value, recommended values and errors. The name is connector.class as given,
// as in Kafka Connect, or the spec's class when absent. PASSWORD values are
// shown as "[hidden]".
//
// Differences from Kafka Connect: Debezium leaves "value" null for its own
// options; here it holds the value as set, or the default.
func (s *Spec) Validate(raw map[string]string) ConfigInfos {
	ev := s.evaluate(raw, false)
	name := s.Class
	if v, ok := raw[PropConnectorClass]; ok {
		name = v
	}
	ord := orders(ev.fields)
	out := ConfigInfos{Name: name, Groups: groupsOf(ev.fields), Configs: make([]ConfigInfo, 0, len(ev.results))}
	if out.Groups == nil {
		out.Groups = []string{}
	}
	for _, r := range ev.results {
		if r.f != nil && r.f.Status == Removed {
			continue
		}
		out.ErrorCount += len(r.errors)
		vi := &ConfigValueInfo{
			Name:              r.key,
			RecommendedValues: nonNil(r.recommended),
			Errors:            nonNil(r.errors),
			Visible:           true,
		}
		if r.f == nil {
			out.Configs = append(out.Configs, ConfigInfo{Value: vi})
			continue
		}
		vi.Value = validatedValue(r)
		out.Configs = append(out.Configs, ConfigInfo{Definition: keyInfo(r.f, ord[r.f]), Value: vi})
	}
	return out
}

func validatedValue(r *result) *string {
	f := r.f
	if r.null {
		return nil
	}
	if f.IsSecret() {
		h := Hidden
		return &h
	}
	v := r.val
	if f.Origin == OriginKafka && f.Type == TypeList {
		// ConfigDef.convertToString joins the parsed list with ",".
		v = joinComma(splitList(v))
	}
	return &v
}

func joinComma(items []string) string {
	out := ""
	for i, it := range items {
		if i > 0 {
			out += ","
		}
		out += it
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ConfigKeyInfos returns the definitions for
// GET /connector-plugins/{class}/config: the connector's own options first,
// then the framework's, as Kafka Connect lists them.
func (s *Spec) ConfigKeyInfos() []ConfigKeyInfo {
	ord := orders(s.Fields)
	out := make([]ConfigKeyInfo, 0, len(s.Fields))
	for _, own := range []bool{true, false} {
		for _, f := range s.Fields {
			if (f.Origin != OriginKafka) == own && f.Status != Removed {
				out = append(out, *keyInfo(f, ord[f]))
			}
		}
	}
	return out
}

func keyInfo(f *Field, order int) *ConfigKeyInfo {
	ki := &ConfigKeyInfo{
		Name:          f.Name,
		Type:          f.Type.String(),
		Importance:    f.Importance.String(),
		Documentation: f.Doc,
		Width:         f.Width.String(),
		DisplayName:   f.DisplayName,
		Dependents:    nonNil(f.Dependents),
		Order:         order,
	}
	if f.Group != "" {
		g := f.Group
		ki.Group = &g
	}
	// Kafka's "required" means "no default value". Debezium defines its
	// required options with a null default, so Kafka reports them as not
	// required; only the framework's own options are.
	if f.Origin == OriginKafka && f.Required && !f.HasDefault() {
		ki.Required = true
	} else if f.HasDefault() {
		d := f.Default
		ki.DefaultValue = &d
	}
	return ki
}
