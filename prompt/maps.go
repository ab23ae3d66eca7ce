package prompt

import (
	"fmt"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/npy"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// NumTasks is the number of tasks, explicit-prompt maps and classifier
// classes.
const NumTasks = 7

// MapSize is the side of the reference's explicit-prompt maps.
const MapSize = 128

// Maps are the explicit prompts: one map per task, a float32 tensor
// (7, H, W) whose row i belongs to the task with PromptIndex i (blur, noise,
// jpeg, rain, haze, dark, sr). The task identity enters an EP network only
// through the choice of the map.
type Maps struct {
	T *torch.Tensor
}

// LoadMaps reads maps from a .npy file of shape (7, H, W), such as the
// reference's data/type7.npy (float64, cast to float32 with round-to-nearest
// as numpy's astype does).
func LoadMaps(path string) (*Maps, error) {
	r, err := npy.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("prompt: maps: %w", err)
	}
	if len(r.Shape) != 3 || r.Shape[0] != NumTasks {
		return nil, fmt.Errorf("prompt: maps %s: shape %v, want (7, H, W)", path, r.Shape)
	}
	t, err := torch.FromHost(nil, r, torch.CPU)
	if err != nil {
		return nil, fmt.Errorf("prompt: maps: %w", err)
	}
	if t.DType() != torch.Float32 {
		f := t.ToDType(torch.Float32)
		t.Close()
		if err := f.Err(); err != nil {
			f.Close()
			return nil, fmt.Errorf("prompt: maps: %w", err)
		}
		t = f
	}
	return &Maps{T: t}, nil
}

// NewMaps draws seven size x size maps uniform in [0, 1) from g, as the
// reference's maps were made; models trained by this library store theirs in
// the checkpoint.
func NewMaps(g *torch.Generator, size int64) (*Maps, error) {
	if size <= 0 {
		return nil, fmt.Errorf("prompt: maps: bad size %d", size)
	}
	t, err := g.Rand(nil, []int64{NumTasks, size, size}, nil)
	if err != nil {
		return nil, fmt.Errorf("prompt: maps: %w", err)
	}
	return &Maps{T: t}, nil
}

// Visit reports the maps as a buffer named "maps".
func (m *Maps) Visit(v layers.Visitor) {
	if m != nil {
		v.Buffer("maps", &m.T)
	}
}

// Prompt returns the explicit prompt of a batch, one task per sample: an
// (N, 1, H, W) tensor on dev, owned by s (which must not be nil).
func (m *Maps) Prompt(s *torch.Scope, dev torch.Device, tasks ...degrade.Task) (*torch.Tensor, error) {
	if s == nil {
		return nil, fmt.Errorf("prompt: maps: Prompt needs a scope")
	}
	if len(tasks) == 0 {
		return nil, fmt.Errorf("prompt: maps: no task given")
	}
	idx := make([]int64, len(tasks))
	for i, t := range tasks {
		p := t.PromptIndex()
		if p < 0 {
			return nil, fmt.Errorf("prompt: maps: invalid task %v", t)
		}
		idx[i] = int64(p)
	}
	it, err := torch.FromSlice(s, idx, int64(len(idx)))
	if err != nil {
		return nil, fmt.Errorf("prompt: maps: %w", err)
	}
	out := s.Use(m.T).IndexSelect(0, it).Unsqueeze(1).ToDevice(dev)
	if err := out.Err(); err != nil {
		return nil, fmt.Errorf("prompt: maps: %w", err)
	}
	return out, nil
}

// Close frees the maps.
func (m *Maps) Close() {
	if m != nil {
		layers.Close(m)
	}
}
