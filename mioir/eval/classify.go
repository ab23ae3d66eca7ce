package eval

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// Accuracy is a task classifier's score on one set: of N images, Correct were
// assigned the set's task.
type Accuracy struct {
	Set        string
	Task       degrade.Task
	N, Correct int
}

// Percent is the accuracy in percent (0 for an empty set).
func (a Accuracy) Percent() float64 {
	if a.N == 0 {
		return 0
	}
	return 100 * float64(a.Correct) / float64(a.N)
}

// ClassifierReport is the result of Classify.
type ClassifierReport struct {
	Sets    []Accuracy // in the order of the sets given
	Skipped []Skip     // images that could not be read or classified
}

// Markdown renders the accuracies as a table: one row per set.
func (r *ClassifierReport) Markdown() string {
	var b strings.Builder
	b.WriteString("| set | task | n | accuracy % |\n|---|---|---:|---:|\n")
	for _, a := range r.Sets {
		fmt.Fprintf(&b, "| %s | %s | %d | %.2f |\n", a.Set, a.Task.Name(), a.N, a.Percent())
	}
	return b.String()
}

// Classify runs the task classifier c on the whole LQ image of every pair of
// sets (8-bit, as an evaluation reads it; the reference's test-time
// selection, prompt.Select) and counts, per set, the images it assigns to the
// set's task. Every set needs a task. Images that cannot be read or
// classified are reported in Skipped and left out. Classify stops between
// images when ctx ends and returns ctx's error with the report so far.
func Classify(ctx context.Context, c *prompt.Classifier, sets []Set) (*ClassifierReport, error) {
	runtime.LockOSThread() // as Evaluate
	defer runtime.UnlockOSThread()
	if c == nil || c.LastOut == nil || c.LastOut.Weight == nil {
		return nil, errors.New("eval: Classify: nil or closed classifier")
	}
	for _, s := range sets {
		if !s.Task.Valid() {
			return nil, fmt.Errorf("eval: Classify: set %q has no task", s.Name)
		}
	}
	dev := c.LastOut.Weight.Device()
	rep := &ClassifierReport{}
	for _, s := range sets {
		a := Accuracy{Set: s.Name, Task: s.Task}
		for _, p := range s.Pairs {
			if err := ctx.Err(); err != nil {
				rep.Sets = append(rep.Sets, a)
				return rep, err
			}
			task, err := classifyPair(c, p.Load, dev)
			if err != nil {
				rep.Skipped = append(rep.Skipped, Skip{Set: s.Name, Name: p.Name, Err: err})
				continue
			}
			a.N++
			if task == s.Task {
				a.Correct++
			}
		}
		rep.Sets = append(rep.Sets, a)
	}
	return rep, nil
}

// classifyPair returns the classifier's task for the pair's LQ image.
func classifyPair(c *prompt.Classifier, load func() (lq, gt *degrade.Image, err error), dev torch.Device) (degrade.Task, error) {
	lq, _, err := load()
	if err != nil {
		return 0, err
	}
	x, err := torch.FromImage(nil, lq.ToImage(), dev)
	if err != nil {
		return 0, err
	}
	defer x.Close()
	p, err := c.Classify(x)
	if err != nil {
		return 0, err
	}
	return p[0].Task, nil
}
