// Command tracemodel fits auto mode's trace model (mioir.TraceModel) to
// the records of scripts/autoeval -stats-only runs and writes it as JSON,
// the form mioir embeds (mioir/tracemodel.json):
//
//	go run ./scripts/autoeval -photos P1,P2,... -stats-only -json T.jsonl
//	go run ./scripts/tracemodel -out mioir/tracemodel.json T.jsonl [more.jsonl ...]
//
// The bundled model's file was fitted on all 35 of its training photos
// (README "Automatic task choice" names them and the command).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/atomicfile"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/prompt"
)

// record is the part of an autoeval record the fit reads.
type record struct {
	Image, Case, Task string
	Traces            *mioir.Traces
}

func main() {
	out := flag.String("out", "", "write the model here (JSON)")
	iters := flag.Int("iterations", 0, "gradient descent iterations (0: the default)")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		log.Fatal("usage: tracemodel -out model.json records.jsonl ...")
	}
	var trs []mioir.Traces
	var tasks []degrade.Task
	for _, path := range flag.Args() {
		if err := read(path, &trs, &tasks); err != nil {
			log.Fatal(err)
		}
	}
	m, err := mioir.FitTraceModel(trs, tasks, &mioir.FitOptions{Iterations: *iters})
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

// read appends the traces and tasks of the records in path.
func read(path string, trs *[]mioir.Traces, tasks *[]degrade.Task) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for line := 1; sc.Scan(); line++ {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if r.Traces == nil {
			return fmt.Errorf("%s:%d: %s %s has no traces (an autoeval run before they were recorded)", path, line, r.Image, r.Case)
		}
		t, err := degrade.ParseTask(r.Task)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		*trs = append(*trs, *r.Traces)
		*tasks = append(*tasks, t)
	}
	return sc.Err()
}
