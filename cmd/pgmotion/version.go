package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newVersionCmd) }

// newVersionCmd is `pgmotion version`, the same as `pgmotion --version`.
func newVersionCmd(*globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print pgmotion's version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := io.WriteString(cmd.OutOrStdout(), versionLine(readBuildInfo()))
			return err
		},
	}
}

// buildInfo is what versionLine prints, from the binary's build info.
type buildInfo struct {
	version   string // the module version, or "devel"
	commit    string // vcs.revision, or "unknown"
	modified  bool   // vcs.modified: built from a tree with uncommitted changes
	goVersion string
}

func readBuildInfo() buildInfo { return buildInfoFrom(debug.ReadBuildInfo()) }

func buildInfoFrom(info *debug.BuildInfo, ok bool) buildInfo {
	bi := buildInfo{version: "devel", commit: "unknown", goVersion: "unknown"}
	if !ok || info == nil {
		return bi
	}
	bi.goVersion = info.GoVersion
	// A build inside the repository (go build, make build) says (devel);
	// go install module@version gives the version.
	if v := info.Main.Version; v != "" && v != "(devel)" {
		bi.version = v
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			bi.commit = s.Value
		case "vcs.modified":
			bi.modified = s.Value == "true"
		}
	}
	return bi
}

// versionLine is, for example,
// "pgmotion devel commit 01a0e35f… (modified) go1.26.0\n".
func versionLine(bi buildInfo) string {
	commit := bi.commit
	if bi.modified {
		commit += " (modified)"
	}
	return fmt.Sprintf("pgmotion %s commit %s %s\n", bi.version, commit, bi.goVersion)
}
