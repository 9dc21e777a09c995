package console

import (
	"encoding/json"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/options"
)

// The worker's config topic holds every connector's configuration as
// Kafka Connect writes it ({"properties":{...}}), secrets in plain text.
// The console hides them there by the one secret rule, as the REST API
// does, in what it shows and in what a search matches, so that neither a
// viewer nor a search used as an oracle learns a password.

// shown returns rec as the console may show it: a record of the config
// topic with the secret values of its properties hidden; any other record
// as it is. A config-topic value that is not a properties document is
// hidden whole, since it cannot be told what in it is secret.
func (c *Console) shown(rec *kgo.Record) *kgo.Record {
	if rec.Topic != c.configTopic || rec.Value == nil {
		return rec
	}
	out := *rec
	out.Value = hideConfigSecrets(rec.Value)
	return &out
}

// hideConfigSecrets is a config topic value with its properties masked as
// the REST API masks a config (options.MaskConfig).
func hideConfigSecrets(v []byte) []byte {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(v, &doc); err != nil {
		return []byte(options.Hidden)
	}
	raw, ok := doc["properties"]
	if !ok {
		return v // target states, restart requests, logger levels: no properties
	}
	var props map[string]string
	if err := json.Unmarshal(raw, &props); err != nil {
		return []byte(options.Hidden)
	}
	masked, err := json.Marshal(options.MaskConfig(props))
	if err != nil {
		return []byte(options.Hidden)
	}
	doc["properties"] = masked
	b, err := json.Marshal(doc)
	if err != nil {
		return []byte(options.Hidden)
	}
	return b
}
