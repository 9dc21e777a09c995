package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const monitoringDir = "../../examples/monitoring/"

// TestMonitoringExamples runs promtool on examples/monitoring as its
// README says to (issue 15, Done-when 2 and 5): the scrape config and the
// alert rules are valid, and the rules' unit tests pass, among them the
// broker outage that must fire the WAL and lag alerts and, once the
// broker is back, none. The dashboard must be valid JSON.
func TestMonitoringExamples(t *testing.T) {
	promtool := needPromtool(t)
	for _, args := range [][]string{
		{"check", "config", monitoringDir + "prometheus.yml"},
		{"check", "rules", monitoringDir + "alerts.yml"},
		{"test", "rules", monitoringDir + "alerts_test.yml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if _, err := exampleMetricNames(); err != nil {
		t.Error(err)
	}
}

// exampleMetricNames returns the metric names that the alert rules and
// the dashboard query.
func exampleMetricNames() ([]string, error) {
	var text strings.Builder
	rules, err := os.ReadFile(monitoringDir + "alerts.yml")
	if err != nil {
		return nil, err
	}
	text.Write(rules)
	dash, err := os.ReadFile(monitoringDir + "grafana-dashboard.json")
	if err != nil {
		return nil, err
	}
	var d struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(dash, &d); err != nil {
		return nil, err
	}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			text.WriteString(tg.Expr + "\n")
		}
	}
	set := map[string]bool{}
	for _, m := range regexp.MustCompile(`\b(?:debezium_metrics|kafka_connect|pgmotion)_[A-Za-z0-9_]+`).FindAllString(text.String(), -1) {
		set[m] = true
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}
