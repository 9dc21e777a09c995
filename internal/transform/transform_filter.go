package transform

import (
	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
)

// Filter (org.apache.kafka.connect.transforms.Filter) drops every record
// it applies to; it is meant to be guarded by a predicate.

var filterSpec = &options.Spec{
	Class: kafkaTransforms + "Filter", Aliases: []string{"Filter"}, Type: typeTransformation, Version: KafkaVersion,
	Title: "Filter",
	Summary: "Drops all records, filtering them from subsequent transformations in the chain. " +
		"This is intended to be used conditionally to filter out records matching (or not matching) a particular Predicate.",
}

func init() {
	register(&plugin{spec: filterSpec, newTransform: func(*options.Config, *env) (transformation, error) { return filter{}, nil }})
}

type filter struct{}

func (filter) uses() uses                     { return 0 }
func (filter) apply(*cd.Record) (bool, error) { return false, nil }
