package transform

import (
	"strings"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
)

// TimestampRouter (org.apache.kafka.connect.transforms.TimestampRouter)
// renames the topic from topic.format, with ${topic} and ${timestamp} (the
// record timestamp formatted by timestamp.format in UTC). Debezium's
// records carry no timestamp, so it fails on them as in Kafka Connect,
// unless an earlier transform (EventRouter) set one.

const (
	propTopicFormat     = "topic.format"
	propTimestampFormat = "timestamp.format"
)

var timestampRouterSpec = &options.Spec{
	Class: kafkaTransforms + "TimestampRouter", Aliases: []string{"TimestampRouter"}, Type: typeTransformation, Version: KafkaVersion,
	Title: "TimestampRouter",
	Summary: "Update the record's topic field as a function of the original topic value and the record timestamp. " +
		"This is mainly useful for sink connectors, since the topic field is often used to determine the equivalent entity name in the destination system (e.g. database table or search index name).",
	Fields: []*options.Field{
		kafka(&options.Field{Name: propTopicFormat, Type: options.TypeString, Default: "${topic}-${timestamp}", Importance: options.High,
			Doc: "Format string which can contain `${topic}` and `${timestamp}` as placeholders for the topic and timestamp, respectively."}),
		kafka(&options.Field{Name: propTimestampFormat, Type: options.TypeString, Default: "yyyyMMdd", Importance: options.High,
			Doc: "Format string for the timestamp that is compatible with `java.text.SimpleDateFormat`.", Check: checkDateFormat,
			Note: "formatted in UTC with an English locale; pgmotion checks the pattern when validating"}),
	},
}

func init() {
	register(&plugin{spec: timestampRouterSpec, newTransform: newTimestampRouter})
}

func checkDateFormat(c *options.Check) {
	if c.IsNull() {
		return
	}
	if _, err := compileSimpleDateFormat(c.Value()); err != nil {
		c.Errorf("%v", err)
	}
}

type timestampRouter struct {
	topicFormat string
	format      simpleDateFormat
}

func newTimestampRouter(c *options.Config, _ *env) (transformation, error) {
	f, err := compileSimpleDateFormat(c.Str(propTimestampFormat))
	if err != nil {
		return nil, err
	}
	return &timestampRouter{topicFormat: c.Str(propTopicFormat), format: f}, nil
}

func (t *timestampRouter) uses() uses { return 0 }

func (t *timestampRouter) apply(r *cd.Record) (bool, error) {
	if !r.HasTimestamp {
		return false, dataErrorf("Timestamp missing on record: topic %s", r.Topic)
	}
	ts := t.format.format(r.Timestamp)
	topic := strings.ReplaceAll(t.topicFormat, "${topic}", r.Topic)
	r.Topic = strings.ReplaceAll(topic, "${timestamp}", ts)
	return true, nil
}
