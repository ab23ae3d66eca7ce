// Command tracemodel fits auto mode's trace model (mioir.TraceModel) to
// the records of scripts/autoeval -stats-only runs and writes it as JSON,
// the form mioir embeds (mioir/tracemodel.json):
//
//	go run ./scripts/autoeval -photos P1,P2,... -stats-only -json T.jsonl
//	go run ./scripts/tracemodel -out mioir/tracemodel.json T.jsonl [more.jsonl ...]
//
// The bundled model's file was fitted on all 35 of its training photos
// (README "Automatic task choice" gives the commands). The records are
// sorted by image and case first, so the file does not depend on their
// order.
package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/atomicfile"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/prompt"
)

// record is the part of an autoeval record the fit reads.
type record struct {
	Image, Case, Task string
	Traces            *mioir.Traces
	task              degrade.Task
}

func main() {
	out := flag.String("out", "", "write the model here (JSON)")
	iters := flag.Int("iterations", 0, "gradient descent iterations (0: the default)")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		log.Fatal("usage: tracemodel -out model.json records.jsonl ...")
	}
	var recs []record
	for _, path := range flag.Args() {
		rs, err := read(path)
		if err != nil {
			log.Fatal(err)
		}
		recs = append(recs, rs...)
	}
	// The fit sums over the records in order: sorted, the model does not
	// depend on the order of the files or of the photos in them.
	slices.SortStableFunc(recs, func(a, b record) int {
		return cmp.Or(cmp.Compare(a.Image, b.Image), cmp.Compare(a.Case, b.Case), cmp.Compare(a.Task, b.Task))
	})
	trs := make([]mioir.Traces, len(recs))
	tasks := make([]degrade.Task, len(recs))
	for i, r := range recs {
		trs[i] = *r.Traces
		tasks[i] = r.task
	}
	m, err := mioir.FitTraceModel(context.Background(), trs, tasks, &mioir.FitOptions{Iterations: *iters})
	if err != nil {
		log.Fatal(err)
	}
	right, per := 0, map[degrade.Task][2]int{}
	for i := range trs {
		best, _, err := m.Choose(&trs[i])
		if err != nil {
			log.Fatal(err)
		}
		c := per[tasks[i]]
		c[1]++
		if best == tasks[i] {
			right++
			c[0]++
		}
		per[tasks[i]] = c
	}
	fmt.Printf("%d inputs, right on %d (%.1f %%) of them:", len(trs), right, 100*float64(right)/float64(len(trs)))
	for i := range prompt.NumTasks {
		t, _ := degrade.TaskFromPromptIndex(i)
		if c, ok := per[t]; ok {
			fmt.Printf(" %s %d/%d", t, c[0], c[1])
		}
	}
	fmt.Println()
	err = atomicfile.WriteFile(*out, func(w io.Writer) error {
		e := json.NewEncoder(w)
		e.SetIndent("", " ")
		return e.Encode(m)
	})
	if err != nil {
		log.Fatal(err)
	}
}

// read returns the records in path.
func read(path string) ([]record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for line := 1; sc.Scan(); line++ {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if r.Traces == nil {
			return nil, fmt.Errorf("%s:%d: %s %s has no traces (an autoeval run before they were recorded)", path, line, r.Image, r.Case)
		}
		if r.task, err = degrade.ParseTask(r.Task); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		recs = append(recs, r)
	}
	return recs, sc.Err()
}
