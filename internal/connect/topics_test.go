package connect

import (
	"encoding/json"
	"testing"
)

// TestTopicStatusKey checks Kafka Connect's key layout both ways, and
// that keys KafkaStatusBackingStore discards are not read as topics.
func TestTopicStatusKey(t *testing.T) {
	if got := topicStatusKey("inventory", "inv.public.orders"); got != "status-topic-inv.public.orders:connector-inventory" {
		t.Errorf("key = %q", got)
	}
	for _, tt := range []struct {
		key, topic, connector string
		ok                    bool
	}{
		{"status-topic-inv.public.orders:connector-inventory", "inv.public.orders", "inventory", true},
		{"status-topic-t:connector-a:b", "t", "a:b", true}, // a connector name may hold ':'
		{"status-topic-:connector-inventory", "", "", false},
		{"status-topic-t:connector-", "", "", false},
		{"status-topic-t", "", "", false},
		{"status-task-inventory-0", "", "", false},
		{"status-topic-t:x:connector-a", "", "", false},
	} {
		topic, conn, ok := parseTopicStatusKey(tt.key)
		if ok != tt.ok || topic != tt.topic || conn != tt.connector {
			t.Errorf("parseTopicStatusKey(%q) = %q, %q, %v; want %q, %q, %v", tt.key, topic, conn, ok, tt.topic, tt.connector, tt.ok)
		}
	}
}

// TestTopicStatusValue checks the value's JSON: JsonConverter's, fields
// in the schema's order.
func TestTopicStatusValue(t *testing.T) {
	b, err := json.Marshal(topicStatus{topicStatusBody{Name: "t1", Connector: "c", Task: 0, DiscoverTimestamp: 1718000000000}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"topic":{"name":"t1","connector":"c","task":0,"discoverTimestamp":1718000000000}}`; string(b) != want {
		t.Errorf("value = %s, want %s", b, want)
	}
}
