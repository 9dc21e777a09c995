package workerconfig

import (
	"strings"

	"github.com/pgmotion/pgmotion/internal/kafkaclient"
)

const prefixAdmin = "admin."

// KafkaClients returns the Kafka client properties of the worker's own
// clients (the top-level security.protocol, sasl.* and ssl.*) and of its
// tasks' producers, consumers and admin clients (producer.*, consumer.*,
// admin.*), with connector.client.config.override.policy. The connect
// package checks them (kafkaclient.Parse) and applies them as Kafka
// Connect does, except that task clients without settings of their own
// use the worker's instead of plaintext.
func (w *Worker) KafkaClients() kafkaclient.Clients {
	c := kafkaclient.Clients{Worker: map[string]string{}, Producer: w.Producer, Consumer: w.Consumer, Admin: map[string]string{},
		OverridePolicy: w.Unknown[kafkaclient.ConnectorClientOverridePolicy]}
	for k, v := range w.Unknown {
		switch {
		case kafkaclient.IsSecurityKey(k):
			c.Worker[k] = v
		case strings.HasPrefix(k, prefixAdmin) && len(k) > len(prefixAdmin):
			c.Admin[k[len(prefixAdmin):]] = v
		}
	}
	return c
}
