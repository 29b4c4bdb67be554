package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tools/phases.sh sums a phase log up: mean, median and 90th percentile of
// each column, after leaving out the first SKIP instances; an empty gap (an
// association's first instance) is not counted.
func TestPhasesScript(t *testing.T) {
	log := "assoc\tsop_instance_uid\tbytes\tgap_us\treceive_us\theader_us\tdurable_us\tplace_us\tindex_us\thandler_us\n"
	for i := 1; i <= 5; i++ {
		gap := fmt.Sprint(100 * i)
		if i == 1 {
			gap = ""
		}
		log += fmt.Sprintf("1\t1.2.%d\t1000\t%s\t%d\t1\t2\t3\t4\t5\n", i, gap, 10*i)
	}
	path := filepath.Join(t.TempDir(), "phases.tsv")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) map[string][]string {
		out, err := exec.Command("bash", append([]string{"tools/phases.sh", path}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tools/phases.sh %v: %v\n%s", args, err, out)
		}
		rows := map[string][]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n")[1:] {
			f := strings.Fields(line)
			rows[f[0]] = f[1:]
		}
		return rows
	}
	all := run()
	for col, want := range map[string]string{"receive": "30 30 50 5", "gap": "350 300 500 4", "handler": "5 5 5 5"} {
		if got := strings.Join(all[col], " "); got != want {
			t.Errorf("%s: %q, want %q (mean median p90 count)", col, got, want)
		}
	}
	if got := strings.Join(run("2")["receive"], " "); got != "40 40 50 3" {
		t.Errorf("receive without the first 2: %q, want \"40 40 50 3\"", got)
	}
}
