package degrade

import (
	"fmt"
	"strings"
)

// Task is one of the seven single degradations of MiOIR. The zero value is
// not a valid task; use the named constants.
//
// The constants are declared in the training order of the paper's first
// sequential curriculum (s b n j r h d), which is also the order of
// AllTasks. The explicit-prompt map index of the reference (type7.npy rows)
// is a different order; see PromptIndex.
type Task int

// The seven tasks, in the order s b n j r h d.
const (
	SR       Task = iota + 1 // super-resolution x4 (bicubic down and back up), code 's'
	Blur                     // isotropic Gaussian blur, code 'b'
	Noise                    // additive Gaussian colour noise, code 'n'
	JPEG                     // JPEG compression artefacts, code 'j'
	Rain                     // synthetic rain streaks, code 'r'
	Haze                     // atmospheric scattering haze, code 'h'
	LowLight                 // gamma darkening ("dark"), code 'd'
)

// NumTasks is the number of tasks.
const NumTasks = 7

var taskInfo = [NumTasks + 1]struct {
	code   byte
	name   string
	prompt int
}{
	{},
	SR:       {'s', "sr", 6},
	Blur:     {'b', "blur", 0},
	Noise:    {'n', "noise", 1},
	JPEG:     {'j', "jpeg", 2},
	Rain:     {'r', "rain", 3},
	Haze:     {'h', "haze", 4},
	LowLight: {'d', "dark", 5},
}

// AllTasks returns the seven tasks in the order s b n j r h d. The slice is
// freshly allocated and may be modified by the caller.
func AllTasks() []Task {
	return []Task{SR, Blur, Noise, JPEG, Rain, Haze, LowLight}
}

// Valid reports whether t is one of the seven tasks.
func (t Task) Valid() bool { return t >= SR && t <= LowLight }

// Code returns the one-letter code of the task (s b n j r h d), or '?' for an
// invalid task.
func (t Task) Code() byte {
	if !t.Valid() {
		return '?'
	}
	return taskInfo[t].code
}

// Name returns the reference's folder/word tag of the task: "sr", "blur",
// "noise", "jpeg", "rain", "haze" or "dark". These are the names used in the
// reference data folders (DF2K/{name}) and in its path-based task detection.
func (t Task) Name() string {
	if !t.Valid() {
		return fmt.Sprintf("Task(%d)", int(t))
	}
	return taskInfo[t].name
}

// String returns Name.
func (t Task) String() string { return t.Name() }

// PromptIndex returns the row of the reference's explicit-prompt maps
// (data/type7.npy) and of the classifier's one-hot label for the task:
// blur 0, noise 1, jpeg 2, rain 3, haze 4, dark 5, sr 6. It returns -1 for an
// invalid task.
func (t Task) PromptIndex() int {
	if !t.Valid() {
		return -1
	}
	return taskInfo[t].prompt
}

// TaskFromPromptIndex is the inverse of PromptIndex.
func TaskFromPromptIndex(i int) (Task, error) {
	for _, t := range AllTasks() {
		if taskInfo[t].prompt == i {
			return t, nil
		}
	}
	return 0, fmt.Errorf("degrade: prompt index %d out of range 0..%d", i, NumTasks-1)
}

// MarshalText implements encoding.TextMarshaler (the Name).
func (t Task) MarshalText() ([]byte, error) {
	if !t.Valid() {
		return nil, fmt.Errorf("degrade: invalid task %d", int(t))
	}
	return []byte(t.Name()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler (accepts what ParseTask accepts).
func (t *Task) UnmarshalText(b []byte) error {
	v, err := ParseTask(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// ParseTask parses a task from its one-letter code ("n"), its reference name
// ("noise", "dark", "sr") or one of the aliases "lowlight", "low-light",
// "superres", "deblur" style long names listed below, case-insensitively.
//
// Accepted aliases: sr/superresolution/super-resolution, blur, noise/denoise,
// jpeg/jpg, rain/derain, haze/dehaze, dark/lowlight/low-light/low_light.
func ParseTask(s string) (Task, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	if len(k) == 1 {
		for _, t := range AllTasks() {
			if taskInfo[t].code == k[0] {
				return t, nil
			}
		}
	}
	switch k {
	case "sr", "superresolution", "super-resolution":
		return SR, nil
	case "blur", "deblur":
		return Blur, nil
	case "noise", "denoise":
		return Noise, nil
	case "jpeg", "jpg":
		return JPEG, nil
	case "rain", "derain":
		return Rain, nil
	case "haze", "dehaze":
		return Haze, nil
	case "dark", "lowlight", "low-light", "low_light":
		return LowLight, nil
	}
	return 0, fmt.Errorf("degrade: unknown task %q (want one of s b n j r h d or sr blur noise jpeg rain haze dark)", s)
}

// ParseTasks parses a task list. It accepts a string of one-letter codes
// ("sbnjrhd", "rjbsnhd", the reference meta-file suffixes) or a comma
// separated list of names/codes ("noise,jpeg"). A string that is itself a
// task name is that one task: "sr" means SR alone (write "rs" or "s,r" for
// SR and rain). Order is kept; a repeated task or an empty list is an
// error.
func ParseTasks(s string) ([]Task, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("degrade: empty task list")
	}
	var parts []string
	if strings.ContainsAny(s, ", ") {
		parts = strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
	} else if t, err := ParseTask(s); err == nil && len(s) > 1 {
		return []Task{t}, nil
	} else {
		for _, r := range s {
			parts = append(parts, string(r))
		}
	}
	out := make([]Task, 0, len(parts))
	var seen [NumTasks + 1]bool
	for _, p := range parts {
		t, err := ParseTask(p)
		if err != nil {
			return nil, fmt.Errorf("degrade: task list %q: %w", s, err)
		}
		if seen[t] {
			return nil, fmt.Errorf("degrade: task list %q: %s given twice", s, t)
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("degrade: empty task list %q", s)
	}
	return out, nil
}

// TaskCodes returns the one-letter codes of ts concatenated ("sbnjrhd").
func TaskCodes(ts []Task) string {
	b := make([]byte, len(ts))
	for i, t := range ts {
		b[i] = t.Code()
	}
	return string(b)
}
