package broker

import (
	"errors"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kfake's own AllowAutoTopicCreation creates a topic inside the Metadata
// handler without writing topics.json; that file is rewritten only by
// CreateTopics, config changes and a clean shutdown. After a crash, an
// auto-created topic was gone: its partition directories were ignored, a
// producer holding its topic ID got UNKNOWN_TOPIC_ID, and the topic created
// again appended to the old segment files. So we leave kfake's option off
// and create the topic the way CreateTopics does, which saves topics.json at
// once, before kfake answers the Metadata request.

// autoCreateTopics returns a control function for Metadata requests that
// creates each topic the request names and allows to be auto-created, with
// the default partition count, then lets kfake answer as usual.
func autoCreateTopics(c *kfake.Cluster, log *slog.Logger) func(kmsg.Request) (kmsg.Response, error, bool) {
	return func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		req, ok := kreq.(*kmsg.MetadataRequest)
		if !ok || !req.AllowAutoTopicCreation {
			return nil, nil, false
		}
		for _, rt := range req.Topics {
			if rt.Topic == nil || rt.TopicID != [16]byte{} || !validTopicName(*rt.Topic) {
				continue // kfake answers by ID, or UNKNOWN_TOPIC_OR_PARTITION
			}
			// Control functions run beside kfake's loop, which serves
			// CreateTopic's admin call while it waits for us.
			err := c.CreateTopic(*rt.Topic, -1, nil)
			switch {
			case err == nil:
				log.Debug("auto-created topic", "topic", *rt.Topic)
			case errors.Is(err, kerr.TopicAlreadyExists):
			default:
				log.Warn("auto-create topic", "topic", *rt.Topic, "err", err)
			}
		}
		return nil, nil, false
	}
}

// validTopicName reports whether Kafka accepts name as a topic name: 1 to
// 249 of [a-zA-Z0-9._-], and not "." or "..". kfake itself checks nothing.
func validTopicName(name string) bool {
	if name == "" || len(name) > 249 || name == "." || name == ".." {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
