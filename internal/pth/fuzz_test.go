package pth

import (
	"testing"
)

// FuzzPickle runs arbitrary data.pkl bytes, next to the storages of
// testdata/views.pth, through the loader: it must return an error or a
// checkpoint, never panic or allocate without bound.
func FuzzPickle(f *testing.F) {
	recs := records(f, td("views.pth"))
	f.Add(recs[0].data)
	f.Add(records(f, td("list.pth"))[0].data)
	f.Fuzz(func(t *testing.T, pkl []byte) {
		mod := append([]record{{recs[0].name, pkl}}, recs[1:]...)
		c, err := LoadBytes(buildZip(t, mod))
		if err != nil {
			return
		}
		for _, name := range c.Sections() {
			sd, err := c.StateDict(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range sd.Entries {
				if err := e.Tensor.Validate(); err != nil {
					t.Fatalf("invalid tensor %q: %v", e.Name, err)
				}
			}
		}
	})
}
