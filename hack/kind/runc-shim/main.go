// Command runc-shim runs runc on hosts whose capability bounding set lacks CAP_SYS_RESOURCE (some VMs
// and sandboxes). There runc fails to start any container that asks for that capability (every
// privileged one) or for a negative oom_score_adj (every pod sandbox kubelet starts: -998). The shim
// rewrites the OCI spec runc is about to use, dropping CAP_SYS_RESOURCE from every capability set and
// raising a negative oomScoreAdj to 0, then execs the real runc. Where the capability is present it
// changes nothing. It serves as dockerd's default runtime and as containerd's runc BinaryName inside the
// kind node image (hack/kind).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const capSysResource = 24

var candidates = []string{"/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"}

func main() {
	real, err := realRunc()
	if err != nil {
		fail(err)
	}
	if lacksSysResource() {
		if err := patchArgs(os.Args[1:]); err != nil {
			fail(err)
		}
	}
	args := append([]string{real}, os.Args[1:]...)
	fail(syscall.Exec(real, args, os.Environ()))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "runc-shim: %v\n", err)
	os.Exit(1)
}

// realRunc is $RUNC_SHIM_REAL, or the first runc on the usual paths that is not this binary.
func realRunc() (string, error) {
	if p := os.Getenv("RUNC_SHIM_REAL"); p != "" {
		return p, nil
	}
	self, _ := os.Executable()
	selfInfo, _ := os.Stat(self)
	for _, c := range candidates {
		info, err := os.Stat(c)
		if err != nil || (selfInfo != nil && os.SameFile(info, selfInfo)) {
			continue
		}
		return c, nil
	}
	return "", fmt.Errorf("no runc found in %s", strings.Join(candidates, ", "))
}

func lacksSysResource() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<capSysResource) == 0
		}
	}
	return false
}

// Global flags of runc that take a value in the next argument (runc --root DIR --log FILE create ...).
var globalValueFlags = map[string]bool{"--root": true, "--log": true, "--log-format": true, "--criu": true}

// patchArgs finds the spec runc will read: the bundle's config.json for create and run, the --process
// file for exec.
func patchArgs(args []string) error {
	sub, bundle, process := "", "", ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func(flag string) (string, bool) {
			if a == flag && i+1 < len(args) {
				i++
				return args[i], true
			}
			return strings.CutPrefix(a, flag+"=")
		}
		switch {
		case sub == "" && globalValueFlags[a]:
			i++ // its value
		case sub == "" && !strings.HasPrefix(a, "-"):
			sub = a
		case sub == "":
			// a boolean global flag, or --flag=value
		default:
			if v, ok := val("--bundle"); ok {
				bundle = v
			} else if v, ok := val("-b"); ok {
				bundle = v
			} else if v, ok := val("--process"); ok {
				process = v
			} else if v, ok := val("-p"); ok {
				process = v
			}
		}
	}
	switch sub {
	case "create", "run":
		if bundle == "" {
			bundle = "."
		}
		return patchFile(filepath.Join(bundle, "config.json"), func(spec map[string]any) {
			if p, ok := spec["process"].(map[string]any); ok {
				patchProcess(p)
			}
		})
	case "exec":
		if process == "" {
			return nil
		}
		return patchFile(process, patchProcess)
	}
	return nil
}

func patchProcess(p map[string]any) {
	if caps, ok := p["capabilities"].(map[string]any); ok {
		for set, v := range caps {
			list, ok := v.([]any)
			if !ok {
				continue
			}
			kept := list[:0]
			for _, c := range list {
				if c != "CAP_SYS_RESOURCE" {
					kept = append(kept, c)
				}
			}
			caps[set] = kept
		}
	}
	if adj, ok := p["oomScoreAdj"].(json.Number); ok && strings.HasPrefix(string(adj), "-") {
		p["oomScoreAdj"] = json.Number("0")
	}
}

func patchFile(path string, patch func(map[string]any)) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	// UseNumber keeps every number as written (seccomp argument values do not fit a float64).
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	patch(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp := path + ".shim"
	if err := os.WriteFile(tmp, out, info.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
