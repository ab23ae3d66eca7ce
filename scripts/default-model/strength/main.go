// Command strength stores a fitted mioir.StrengthModel in a model file: the
// JSON that scripts/autoeval/strength_fit.py -save writes for a task, set
// with Model.SetStrength for that task, and the model saved again. The
// tensors are unchanged; only the file's metadata gains the model.
//
//	go run ./scripts/default-model/strength -model in.safetensors -task n -fit noise.json -out out.safetensors
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "strength:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("strength", flag.ContinueOnError)
	model := fs.String("model", "", "native model file to read (required)")
	task := fs.String("task", "", "task whose strength model to set, e.g. n (required)")
	fit := fs.String("fit", "", "strength_fit.py -save JSON of that task (required)")
	out := fs.String("out", "", "model file to write (required; may be -model)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *model == "" || *task == "" || *fit == "" || *out == "" || fs.NArg() > 0 {
		return errors.New("-model, -task, -fit and -out are required, and nothing else")
	}
	t, err := degrade.ParseTask(*task)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(*fit)
	if err != nil {
		return err
	}
	var sm mioir.StrengthModel
	if err := json.Unmarshal(b, &sm); err != nil {
		return fmt.Errorf("%s: %w", *fit, err)
	}
	m, err := mioir.Load(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.SetStrength(t, &sm); err != nil {
		return fmt.Errorf("%s: %w", *fit, err)
	}
	return m.Save(*out)
}
