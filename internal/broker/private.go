package broker

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The data directory holds every record and, in connect-configs, every
// connector's config as given, passwords included. So it is private to the
// user running the broker: the directories 0700 and the files 0600.
// kfake creates its files 0644 and directories 0755, so the broker also
// narrows the process umask (restrictUmask).

// makePrivate takes group and other permissions away from dir and
// everything below it, saying so once when there was anything to change.
func makePrivate(dir string, log *slog.Logger) error {
	restrictUmask()
	changed := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil // never follow a link out of the directory
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := info.Mode().Perm()
		if mode&0o077 == 0 {
			return nil
		}
		if err := os.Chmod(path, mode&^0o077); err != nil {
			return err
		}
		changed++
		return nil
	})
	if err != nil {
		return fmt.Errorf("make data dir %s private: %w", dir, err)
	}
	if changed > 0 {
		log.Warn("data dir was readable by other users; took their permissions away", "data_dir", dir, "paths", changed)
	}
	return nil
}

// kfake keeps the SASL users it knows in sasl.json, PLAIN passwords in
// clear, and on start prefers them to the users it is given. The users
// given to the broker are the only ones, so the file goes before kfake
// starts and after it stops.
const kfakeSASLFile = "sasl.json"

func forgetSASLUsers(dir string) error {
	if err := os.Remove(filepath.Join(dir, kfakeSASLFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s from the data dir: %w", kfakeSASLFile, err)
	}
	return nil
}

// refuseUserChanges answers AlterUserScramCredentials with an error for
// every user: the broker's users come from its users file or environment,
// and a client must not add or change them.
func refuseUserChanges(c *kfake.Cluster) func(kmsg.Request) (kmsg.Response, error, bool) {
	return func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kreq.(*kmsg.AlterUserSCRAMCredentialsRequest)
		resp := req.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)
		msg := "the broker's SASL users come from its users file or " + EnvSASLUsers + "; change them there and restart it"
		add := func(user string) {
			r := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
			r.User = user
			r.ErrorCode = kerr.ClusterAuthorizationFailed.Code
			r.ErrorMessage = &msg
			resp.Results = append(resp.Results, r)
		}
		for _, d := range req.Deletions {
			add(d.Name)
		}
		for _, u := range req.Upsertions {
			add(u.Name)
		}
		return resp, nil, true
	}
}
