package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/pgmotion/pgmotion/internal/options"
)

func init() { subcommands = append(subcommands, newDocsCmd) }

// newDocsCmd regenerates the configuration reference from internal/options.
func newDocsCmd(g *globals) *cobra.Command {
	var out, readme string
	cmd := &cobra.Command{
		Use:   "docs",
		Short: "Regenerate the configuration reference from the option declarations",
		Long: "Writes one Markdown reference per connector into --out and, with --readme, replaces the text between\n" +
			options.ReadmeBegin + " and " + options.ReadmeEnd + " in that file with a compact version.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			written, err := writeDocs(out, readme)
			for _, p := range written {
				g.log.Info("wrote documentation", "path", p)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&out, "out", options.DocsDir, "directory of the generated reference files")
	cmd.Flags().StringVar(&readme, "readme", "", "README whose generated config reference section is replaced")
	return cmd
}

// writeDocs writes the reference files and updates the README; it returns
// the files it changed.
func writeDocs(dir, readme string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	files := options.DocFiles()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var written []string
	for _, n := range names {
		p := filepath.Join(dir, n)
		changed, err := writeIfChanged(p, files[n])
		if err != nil {
			return written, err
		}
		if changed {
			written = append(written, p)
		}
	}
	if readme == "" {
		return written, nil
	}
	doc, err := os.ReadFile(readme)
	if err != nil {
		return written, fmt.Errorf("read README: %w", err)
	}
	var section bytes.Buffer
	if err := options.WriteMarkdownCompact(&section); err != nil {
		return written, err
	}
	updated, err := options.ReplaceGenerated(doc, section.Bytes())
	if err != nil {
		return written, fmt.Errorf("update %s: %w", readme, err)
	}
	changed, err := writeIfChanged(readme, updated)
	if changed {
		written = append(written, readme)
	}
	return written, err
}

// writeIfChanged replaces path atomically when its content differs.
func writeIfChanged(path string, data []byte) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".docs-*")
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return true, nil
}
