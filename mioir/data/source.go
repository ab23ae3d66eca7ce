package data

import (
	"fmt"
	"image"
	"log"

	"github.com/gomioir/gomioir/degrade"
)

// Source is where training samples come from: for each task, a list of images
// from which patches of LQ and GT pixels can be cut. Paired (precomputed LQ
// folders or meta files) and Clean (degradation on the fly) implement it; a
// user type can too.
//
// The Loader draws everything random (task, image, crop, flips, key) itself
// and calls Patch with the outcome, so a Source only has to be a deterministic
// function of its arguments: the same (t, i, r, key) must always give the
// same pixels. Methods are called from several goroutines at once.
type Source interface {
	// Tasks returns the tasks the source can produce, in the order of
	// degrade.AllTasks.
	Tasks() []degrade.Task
	// Len returns the number of images of task t (0 when t is not available).
	Len(t degrade.Task) int
	// Name returns the name of image i of task t (for logs and error messages).
	Name(t degrade.Task, i int) string
	// Size returns the area of image i of task t that patches are cut from:
	// rectangles passed to Patch lie inside (0,0)-(w,h).
	Size(t degrade.Task, i int) (w, h int)
	// Patch returns the LQ and GT pixels of rectangle r of image i of task t,
	// both r.Dx() x r.Dy(). key seeds whatever randomness the source uses
	// (degradation parameters and noise); it is drawn by the Loader per
	// sample.
	Patch(t degrade.Task, i int, r image.Rectangle, key uint64) (lq, gt *degrade.Image, err error)
}

// DefaultCacheBytes is the default bound of the decoded-image cache of Paired
// and Clean sources (8-bit RGB planes, 3 bytes a pixel: about 130 2K images).
const DefaultCacheBytes = 1 << 30

// SkipFunc receives the files that are skipped because they cannot be read
// (name and error). The default logs them with the standard log package.
type SkipFunc func(name string, err error)

func (f SkipFunc) report(name string, err error) {
	if f != nil {
		f(name, err)
		return
	}
	log.Printf("data: skipping %s: %v", name, err)
}

// tasksIn returns the tasks of AllTasks for which has is true.
func tasksIn(has func(degrade.Task) bool) []degrade.Task {
	var ts []degrade.Task
	for _, t := range degrade.AllTasks() {
		if has(t) {
			ts = append(ts, t)
		}
	}
	return ts
}

// listNames formats up to 5 names of a list for an error message.
func listNames(names []string) string {
	s := ""
	for i, n := range names {
		if i == 5 {
			s += fmt.Sprintf(", ... (%d in all)", len(names))
			break
		}
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}
