package workerconfig

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/pgmotion/pgmotion/internal/kafkaclient"
	"github.com/pgmotion/pgmotion/internal/kafkasink"
)

// Sources are where the command line takes a worker's properties from,
// besides the defaults, in rising precedence.
type Sources struct {
	// File is the worker config file (--worker-config); "" for none.
	File string
	// Environ is the environment, as os.Environ returns it; its
	// PGMOTION_* variables that name worker properties apply (ApplyEnv).
	Environ []string
	// Flags are the properties the flags that were given set, in the
	// order their errors are to be reported.
	Flags []Property
}

// Assemble builds the worker configuration from s: the defaults, then the
// file, then the environment, then the flags (see the package comment).
// Properties that none of them sets take pgmotion's defaults where they
// differ from Kafka Connect's: listeners is PgmotionListener,
// offset.flush.interval.ms is PgmotionOffsetFlushInterval, and the
// internal topics' replication factors are the broker's default (-1),
// since Kafka Connect's 3 is refused by a cluster of fewer brokers. Every
// bad flag is reported at once. It ends with Validate.
func Assemble(s Sources) (*Worker, error) {
	w := Default()
	if s.File != "" {
		var err error
		if w, err = Load(s.File); err != nil {
			return nil, err
		}
	}
	if err := w.ApplyEnv(s.Environ); err != nil {
		return nil, err
	}
	var errs []error
	for _, p := range s.Flags {
		errs = append(errs, w.Set(p.Key, p.Value))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if w.Source(PropListeners) == "" {
		w.Listeners = []string{PgmotionListener}
	}
	for _, r := range []struct {
		key string
		v   *int16
	}{
		{PropConfigReplication, &w.ConfigReplication},
		{PropOffsetReplication, &w.OffsetReplication},
		{PropStatusReplication, &w.StatusReplication},
	} {
		if w.Source(r.key) == "" {
			*r.v = -1
		}
	}
	if w.Source(PropOffsetFlushInterval) == "" {
		w.OffsetFlushInterval = PgmotionOffsetFlushInterval
	}
	return w, w.Validate()
}

// minMaxRequestSize is the smallest producer.max.request.size accepted:
// below it no record with its headers fits.
const minMaxRequestSize = 1024

// Producer is what pgmotion's producer takes from the worker's producer.*
// overrides.
type Producer struct {
	// Compression is compression.type, one of kafkasink.Compressions.
	Compression string
	// MaxRequestSize is max.request.size in bytes; 0 when not set (the
	// producer's default).
	MaxRequestSize int32
	// Unused lists, sorted and with their producer. prefix, the overrides
	// pgmotion's producer does not read: neither of the above nor a
	// client security setting (see KafkaClients).
	Unused []string
}

// ProducerConfig returns the producer's settings, checked. compressionFlag
// is the --compression flag's value when the flag was given (nil when
// not): it wins over producer.compression.type, which wins over
// kafkasink.DefaultCompression.
func (w *Worker) ProducerConfig(compressionFlag *string) (Producer, error) {
	p := Producer{Compression: kafkasink.DefaultCompression}
	if c, ok := w.Producer[kafkasink.PropCompressionType]; ok {
		p.Compression = c
	}
	if compressionFlag != nil {
		p.Compression = *compressionFlag
	}
	if err := kafkasink.CheckCompression(p.Compression); err != nil {
		return Producer{}, err
	}
	if v, ok := w.Producer[kafkasink.PropMaxRequestSize]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil || n < minMaxRequestSize {
			return Producer{}, fmt.Errorf("%s%s=%q: want a number of bytes of at least %d", prefixProducer, kafkasink.PropMaxRequestSize, v, minMaxRequestSize)
		}
		p.MaxRequestSize = int32(n)
	}
	for k := range w.Producer {
		if k != kafkasink.PropCompressionType && k != kafkasink.PropMaxRequestSize && !kafkaclient.IsSecurityKey(k) {
			p.Unused = append(p.Unused, prefixProducer+k)
		}
	}
	sort.Strings(p.Unused)
	return p, nil
}

// Converters returns the worker's converter settings, which connectors
// without their own inherit: key.converter, value.converter, their
// schemas.enable and every other key.converter.* and value.converter.*
// property.
func (w *Worker) Converters() map[string]string {
	out := map[string]string{
		PropKeyConverter:   w.KeyConverter,
		PropValueConverter: w.ValueConverter,
		PropKeySchemas:     strconv.FormatBool(w.KeySchemas),
		PropValueSchemas:   strconv.FormatBool(w.ValueSchemas),
	}
	for k, v := range w.Unknown {
		if strings.HasPrefix(k, PropKeyConverter+".") || strings.HasPrefix(k, PropValueConverter+".") {
			out[k] = v
		}
	}
	return out
}

// Advertised returns the worker's id: the REST address other workers and
// clients reach it at, for a REST API listening on listen (host:port).
// rest.advertised.host.name and rest.advertised.port win when set; a
// wildcard host (none, 0.0.0.0 or ::) becomes hostname unless that is "".
// A listen address that is not host:port is returned as it is.
func (w *Worker) Advertised(listen, hostname string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if (host == "" || host == "0.0.0.0" || host == "::") && hostname != "" {
		host = hostname
	}
	if w.AdvertisedHost != "" {
		host = w.AdvertisedHost
	}
	if w.AdvertisedPort != 0 {
		port = strconv.Itoa(w.AdvertisedPort)
	}
	return net.JoinHostPort(host, port)
}
