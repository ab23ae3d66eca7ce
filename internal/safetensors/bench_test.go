package safetensors

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/nets/torch/host"
)

// benchStateDict returns ~10 MB of float32 tensors in 40 entries.
func benchStateDict(b *testing.B) (*host.StateDict, int) {
	sd := host.NewStateDict()
	total := 0
	for i := range 40 {
		v := make([]float32, 64*64*16)
		for j := range v {
			v[j] = float32(i*j) * 1e-3
		}
		t := host.FromFloat32([]int{64, 64, 4, 4}, v)
		total += len(t.Data)
		require.NoError(b, sd.Add(fmt.Sprintf("body.%d.conv.weight", i), t))
	}
	return sd, total
}

func BenchmarkWriteFile10MB(b *testing.B) {
	sd, total := benchStateDict(b)
	p := filepath.Join(b.TempDir(), "bench.safetensors")
	b.SetBytes(int64(total))
	for b.Loop() {
		if err := WriteFile(p, sd, map[string]string{"backbone": "SRResNet"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal10MB(b *testing.B) {
	sd, total := benchStateDict(b)
	var buf bytes.Buffer
	b.SetBytes(int64(total))
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, sd, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadFile10MB(b *testing.B) {
	sd, total := benchStateDict(b)
	p := filepath.Join(b.TempDir(), "bench.safetensors")
	require.NoError(b, WriteFile(p, sd, nil))
	b.SetBytes(int64(total))
	for b.Loop() {
		if _, err := ReadFile(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead10MBInMemory(b *testing.B) {
	sd, total := benchStateDict(b)
	raw, err := Marshal(sd, nil)
	require.NoError(b, err)
	b.SetBytes(int64(total))
	for b.Loop() {
		if _, err := Read(raw); err != nil {
			b.Fatal(err)
		}
	}
}
