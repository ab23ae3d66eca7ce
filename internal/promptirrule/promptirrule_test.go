package promptirrule

import (
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/testutil"
)

// TestValueByHand checks elements worked out by hand from the
// rule: exact ones (offset 0, 0.5) and ones that round, including both
// directions of a tie (round half to even).
func TestValueByHand(t *testing.T) {
	for _, c := range []struct {
		k, j     int
		offset   float64
		scaleExp int
		m        int64  // the hash's signed mantissa
		bits     uint32 // the expected float32
	}{
		// patch_embed.proj.weight[0]: m * 2^-26, exact.
		{0, 0, 0, -3, -6357272, 0xbdc20230},
		{0, 1, 0, -3, 4455599, 0x3d87f95e},
		// prompt1.prompt_param, first and last element: 0.5 + m*2^-24, exact.
		{1, 0, 0.5, -1, -5022663, 0x3e4d70e4},
		{1, 1310719, 0.5, -1, 1921566, 0x3f1d521e},
		// encoder_level1.0.norm1.body.weight: 1 + m*2^-26 on a 2^-23 grid:
		// j=0 rounds 125519.75 ulps up to 125520.
		{13, 0, 1, -3, 1004158, 0x3f800000 + 125520},
		// j=13: 748549.5 ulps, a tie, to the even 748550 (up).
		{13, 13, 1, -3, 5988396, 0x3f800000 + 748550},
		// j=16: 911188.5 ulps, a tie, to the even 911188 (down).
		{13, 16, 1, -3, 7289508, 0x3f800000 + 911188},
		// j=11: below 1 the grid is 2^-24: (2^26-483930)/4 = 16656233.5, to 16656234.
		{13, 11, 1, -3, -483930, 0x3f000000 + 16656234 - 1<<23},
		// encoder_level1.0.attn.temperature: 1 + m*2^-25: 428932.75 ulps, to 428933.
		{15, 0, 1, -2, 1715731, 0x3f800000 + 428933},
	} {
		got := Value(c.k, c.j, c.offset, c.scaleExp)
		require.Equal(t, c.bits, math.Float32bits(got), "k=%d j=%d: %v", c.k, c.j, got)
		// The value is the exact one rounded once.
		exact := c.offset + float64(c.m)*math.Pow(2, float64(c.scaleExp-23))
		require.InDelta(t, exact, float64(got), math.Abs(exact)*math.Pow(2, -24))
	}
}

// TestStateDict checks the generated state dict against the
// fixture's key list (names, shapes, order) and the value ranges the rule
// promises.
func TestStateDict(t *testing.T) {
	raw, err := os.ReadFile(fixtures.Path(t, "models", "PromptIR.weights_rule.json"))
	require.NoError(t, err)
	rule, err := Parse(raw)
	require.NoError(t, err)
	keys := testutil.Keys(t, "PromptIR.keys.json")
	require.Len(t, rule.Tensors, len(keys))
	for i, k := range keys {
		require.Equal(t, k.Name, rule.Tensors[i].Key)
		require.Equal(t, k.Shape, rule.Tensors[i].Shape, k.Name)
	}
	sd, err := rule.StateDict()
	require.NoError(t, err)
	require.Equal(t, len(keys), sd.Len())
	var total int
	for i, e := range sd.Entries {
		r := rule.Tensors[i]
		require.Equal(t, keys[i].Name, e.Name)
		v, err := e.Tensor.Float32s()
		require.NoError(t, err)
		total += len(v)
		half := math.Ldexp(1, r.ScaleExp)
		for j, x := range v {
			if float64(x) < r.Offset-half || float64(x) > r.Offset+half {
				t.Fatalf("%s[%d] = %v outside %v +- %v", e.Name, j, x, r.Offset, half)
			}
		}
		// Spot-check the first element against the scalar function.
		require.Equal(t, Value(i, 0, r.Offset, r.ScaleExp), v[0], e.Name)
	}
	require.Equal(t, 16_259_522, total)
	got, _ := sd.Get("encoder_level1.0.norm1.body.weight")
	v, _ := got.Float32s()
	require.Equal(t, uint32(0x3f800000+748550), math.Float32bits(v[13]))
}

func TestParseErrors(t *testing.T) {
	for _, doc := range []string{
		`{`,
		`{"tensors":[{"k":1,"key":"a","shape":[1],"dtype":"float32"}]}`,
		`{"tensors":[{"k":0,"key":"a","shape":[1],"dtype":"float64"}]}`,
		`{"tensors":[{"k":0,"key":"a","shape":[-1],"dtype":"float32"}]}`,
	} {
		_, err := Parse([]byte(doc))
		require.Error(t, err, doc)
	}
}
