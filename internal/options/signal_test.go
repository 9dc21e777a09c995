package options

import (
	"strings"
	"testing"
)

// TestSignalOptions checks the validation of the signal and incremental
// snapshot options, which pgmotion implements.
func TestSignalOptions(t *testing.T) {
	base := map[string]string{
		"name": "c", "connector.class": PostgresClass, "plugin.name": "pgoutput",
		"database.hostname": "h", "database.user": "u", "database.dbname": "d", "topic.prefix": "srv",
	}
	for _, tc := range []struct {
		name string
		set  map[string]string
		err  string
	}{
		{name: "source and kafka", set: map[string]string{"signal.data.collection": "public.debezium_signal", "signal.enabled.channels": "source,KAFKA"}},
		{name: "strategy any case", set: map[string]string{"incremental.snapshot.watermarking.strategy": "insert_delete", "read.only": "true"}},
		{name: "no schema", set: map[string]string{"signal.data.collection": "debezium_signal"},
			err: "The 'signal.data.collection' value is invalid: debezium_signal is not a schema.table name"},
		{name: "database-qualified", set: map[string]string{"signal.data.collection": "db.public.s"}, err: "is not a schema.table name"},
		{name: "two tables", set: map[string]string{"signal.data.collection": "public.a,public.b"}, err: "only one signal data collection is permitted"},
		{name: "jmx", set: map[string]string{"signal.enabled.channels": "source,jmx"},
			err: "The 'signal.enabled.channels' value is invalid: the jmx signal channel is not available in pgmotion; the allowed channels are source and kafka"},
		{name: "file", set: map[string]string{"signal.enabled.channels": "file"}, err: "the file signal channel is not available"},
		{name: "unknown channel", set: map[string]string{"signal.enabled.channels": "pigeon"}, err: `unknown signal channel "pigeon"; the allowed channels are source and kafka`},
		{name: "bad strategy", set: map[string]string{"incremental.snapshot.watermarking.strategy": "insert_update"}, err: "The 'incremental.snapshot.watermarking.strategy' value is invalid"},
		{name: "negative chunk", set: map[string]string{"incremental.snapshot.chunk.size": "-1"}, err: "incremental.snapshot.chunk.size"},
		{name: "blank topic", set: map[string]string{"signal.kafka.topic": " "}, err: "signal.kafka.topic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := map[string]string{}
			for k, v := range base {
				cfg[k] = v
			}
			for k, v := range tc.set {
				cfg[k] = v
			}
			pc, err := ParsePostgres(cfg)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range pc.Warnings {
					if strings.Contains(w, "signal") || strings.Contains(w, "incremental") || strings.Contains(w, "read.only") {
						t.Errorf("implemented option warned about: %s", w)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}
