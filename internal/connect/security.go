package connect

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"

	"github.com/pgmotion/pgmotion/internal/kafkaclient"
	"github.com/pgmotion/pgmotion/internal/options"
)

// The connector properties that override its clients' settings (KIP-458),
// and Debezium's signal consumer's.
const (
	producerOverride     = options.PrefixProducerOverride
	consumerOverride     = "consumer.override."
	adminOverride        = options.PrefixAdminOverride
	signalConsumerPrefix = options.PrefixSignalConsumer
)

// security is a worker's checked Kafka client security: its own clients'
// (the top-level properties), and its tasks' producers', consumers' and
// admin clients'.
type security struct {
	worker, producer, consumer, admin *kafkaclient.Security
	// The task clients' properties, the worker's under their own.
	producerProps, consumerProps, adminProps map[string]string
	policy                                   kafkaclient.OverridePolicy
}

// parseSecurity checks the worker's client settings. Kafka Connect gives
// task producers and consumers only their producer.* and consumer.*
// settings, so that without them they connect in plaintext to a cluster
// the worker reaches over SASL_SSL; pgmotion gives them the worker's
// settings under their own instead, and logs once that it did. Admin
// clients get the worker's settings under admin.*, as in Kafka Connect.
func parseSecurity(c kafkaclient.Clients, log *slog.Logger) (*security, error) {
	s := &security{}
	var err error
	var errs []error
	if s.policy, err = kafkaclient.ParseOverridePolicy(c.OverridePolicy); err != nil {
		errs = append(errs, err)
	}
	if s.worker, err = kafkaclient.Parse(c.Worker, ""); err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	s.producerProps = kafkaclient.Layer(c.Worker, c.Producer)
	s.consumerProps = kafkaclient.Layer(c.Worker, c.Consumer)
	s.adminProps = kafkaclient.Layer(c.Worker, c.Admin)
	if s.producer, err = kafkaclient.Parse(s.producerProps, "producer."); err != nil {
		errs = append(errs, err)
	}
	if s.consumer, err = kafkaclient.Parse(s.consumerProps, "consumer."); err != nil {
		errs = append(errs, err)
	}
	if s.admin, err = kafkaclient.Parse(s.adminProps, "admin."); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	warned := map[string]bool{}
	for _, sec := range []*kafkaclient.Security{s.worker, s.producer, s.consumer, s.admin} {
		for _, w := range sec.Warnings {
			if !warned[w] {
				warned[w] = true
				log.Warn(w)
			}
		}
	}
	if s.worker.Protocol != kafkaclient.Plaintext {
		for prefix, own := range map[string]map[string]string{"producer.": c.Producer, "consumer.": c.Consumer} {
			if inherited := missing(c.Worker, own); len(inherited) > 0 {
				log.Info("the tasks' Kafka clients use the worker's security settings that "+prefix+"* does not set; Kafka Connect would use its defaults (plaintext) there",
					"clients", strings.TrimSuffix(prefix, "."), "security", s.worker.String(), "inherited", inherited)
			}
		}
	}
	return s, nil
}

// missing lists the security properties of worker that own does not set.
func missing(worker, own map[string]string) []string {
	var out []string
	for k := range kafkaclient.Pick(worker) {
		if _, ok := own[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// connectorClients are one connector's client security settings, after
// its producer.override.*, consumer.override.* and admin.override.*.
type connectorClients struct {
	producer, consumer, admin *kafkaclient.Security
	// own is true when the connector overrides the producer or admin
	// settings, so that it needs a producer of its own.
	own bool
	// signal is the Kafka signal consumer's (signal.consumer.* over the
	// consumer's).
	signal *kafkaclient.Security
}

// forConnector applies a connector's overrides under the worker's
// connector.client.config.override.policy, as Kafka Connect's
// AbstractConnectorClientConfigOverridePolicy does.
func (s *security) forConnector(config map[string]string) (connectorClients, error) {
	cc := connectorClients{producer: s.producer, consumer: s.consumer, admin: s.admin, signal: s.consumer}
	overrides := func(prefix string) (map[string]string, error) {
		out := map[string]string{}
		for k, v := range config {
			key, ok := strings.CutPrefix(k, prefix)
			if !ok || !kafkaclient.IsSecurityKey(key) {
				continue
			}
			if !s.policy.Allows(key) {
				//lint:ignore ST1005 Kafka Connect's wording
				return nil, fmt.Errorf("The '%s' policy does not allow '%s' to be overridden in the connector configuration (%s)", s.policy, k, kafkaclient.ConnectorClientOverridePolicy)
			}
			out[key] = v
		}
		return out, nil
	}
	var errs []error
	apply := func(prefix string, base map[string]string, dst **kafkaclient.Security) bool {
		over, err := overrides(prefix)
		if err != nil {
			errs = append(errs, err)
			return false
		}
		if len(over) == 0 {
			return false
		}
		sec, err := kafkaclient.Parse(kafkaclient.Layer(base, over), prefix)
		if err != nil {
			errs = append(errs, err)
			return false
		}
		*dst = sec
		return true
	}
	p := apply(producerOverride, s.producerProps, &cc.producer)
	a := apply(adminOverride, s.adminProps, &cc.admin)
	apply(consumerOverride, s.consumerProps, &cc.consumer)
	cc.own = p || a
	cc.signal = cc.consumer
	// Debezium's Kafka signal channel passes signal.consumer.* to its
	// consumer.
	sig := map[string]string{}
	for k, v := range config {
		if key, ok := strings.CutPrefix(k, signalConsumerPrefix); ok && kafkaclient.IsSecurityKey(key) {
			sig[key] = v
		}
	}
	if len(sig) > 0 {
		base := maps.Clone(s.consumerProps)
		sec, err := kafkaclient.Parse(kafkaclient.Layer(base, sig), signalConsumerPrefix)
		if err != nil {
			errs = append(errs, err)
		} else {
			cc.signal = sec
		}
	}
	return cc, errors.Join(errs...)
}

// sameSecurity reports whether two clients would connect alike.
func sameSecurity(a, b *kafkaclient.Security) bool { return a.Equal(b) }
