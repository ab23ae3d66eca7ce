package pth

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/nets/torch/host"
)

// keyEntry is one [key, shape, dtype] row of a *.keys.json file.
type keyEntry struct {
	Name  string
	Shape []int
	DType host.DType
}

func readKeys(t testing.TB, path string) []keyEntry {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var rows [][3]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &rows))
	out := make([]keyEntry, len(rows))
	for i, r := range rows {
		var dt string
		require.NoError(t, json.Unmarshal(r[0], &out[i].Name))
		require.NoError(t, json.Unmarshal(r[1], &out[i].Shape))
		require.NoError(t, json.Unmarshal(r[2], &dt))
		out[i].DType = host.DType(dt)
		if out[i].Shape == nil {
			out[i].Shape = []int{}
		}
	}
	return out
}

// requireKeys checks names, order, shapes and dtypes of sd against want.
func requireKeys(t *testing.T, want []keyEntry, sd *host.StateDict, label string) {
	t.Helper()
	require.Equal(t, len(want), sd.Len(), label)
	for i, w := range want {
		e := sd.Entries[i]
		require.Equal(t, w.Name, e.Name, "%s entry %d", label, i)
		require.Equal(t, w.DType, e.Tensor.DType, "%s %s", label, w.Name)
		require.Equal(t, w.Shape, e.Tensor.Shape, "%s %s", label, w.Name)
		require.NoError(t, e.Tensor.Validate(), "%s %s", label, w.Name)
	}
}
