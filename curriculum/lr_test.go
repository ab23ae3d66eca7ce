package curriculum

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCosineRestartLRBoundaries checks the rate at cycle boundaries and
// inside cycles. The expected values are the reference expression
//
//	eta_min + w*0.5*(2e-4 - eta_min)*(1 + cos(pi*((e - restart)/period)))
//
// evaluated by CPython 3.11 (its repr, which round-trips), with e the
// scheduler position (iteration - 1).
func TestCosineRestartLRBoundaries(t *testing.T) {
	p100k := []int{100_000, 100_000, 100_000, 100_000, 100_000, 100_000, 100_000, 100_000, 100_000, 100_000}
	p250k := make([]int, 10)
	for i := range p250k {
		p250k[i] = 250_000
	}
	for _, tc := range []struct {
		name    string
		periods []int
		weights []float64
		etaMin  float64
		e       int
		cycle   int
		want    float64
	}{
		// 10 x 100k, eta_min 1e-7 (SwinIR, Restormer, PromptIR -M).
		{"start", p100k, nil, 1e-7, 0, 0, 0.0002},
		{"second", p100k, nil, 1e-7, 1, 0, 0.00019999999995067664},
		{"quarter", p100k, nil, 1e-7, 25_000, 0, 0.00017072532277959544},
		{"half", p100k, nil, 1e-7, 50_000, 0, 0.00010005},
		{"three quarters", p100k, nil, 1e-7, 75_000, 0, 2.9374677220404582e-05},
		{"before end", p100k, nil, 1e-7, 99_999, 0, 1.0000004932335165e-07},
		{"end of cycle 0", p100k, nil, 1e-7, 100_000, 0, 1e-07},
		{"start of cycle 1", p100k, nil, 1e-7, 100_001, 1, 0.00019999999995067664},
		{"half of cycle 1", p100k, nil, 1e-7, 150_000, 1, 0.00010005},
		{"end of cycle 1", p100k, nil, 1e-7, 200_000, 1, 1e-07},
		{"start of cycle 2", p100k, nil, 1e-7, 200_001, 2, 0.00019999999995067664},
		{"last iteration", p100k, nil, 1e-7, 999_999, 9, 1.0000004932335165e-07},
		{"one past the run", p100k, nil, 1e-7, 1_000_000, 9, 1e-07},
		// Uformer: eta_min 1e-6.
		{"uformer start", p100k, nil, 1e-6, 0, 0, 0.0002},
		{"uformer second", p100k, nil, 1e-6, 1, 0, 0.00019999999995089872},
		{"uformer half", p100k, nil, 1e-6, 50_000, 0, 0.0001005},
		{"uformer before end", p100k, nil, 1e-6, 99_999, 0, 1.0000000491012855e-06},
		{"uformer end", p100k, nil, 1e-6, 100_000, 0, 1e-06},
		{"uformer restart", p100k, nil, 1e-6, 100_001, 1, 0.00019999999995089872},
		// 10 x 250k (SRResNet).
		{"srresnet second", p250k, nil, 1e-7, 1, 0, 0.00019999999999210826},
		{"srresnet half", p250k, nil, 1e-7, 125_000, 0, 0.00010005},
		{"srresnet before end", p250k, nil, 1e-7, 249_999, 0, 1.0000000789173626e-07},
		{"srresnet end", p250k, nil, 1e-7, 250_000, 0, 1e-07},
		{"srresnet restart", p250k, nil, 1e-7, 250_001, 1, 0.00019999999999210826},
		{"srresnet last", p250k, nil, 1e-7, 2_499_999, 9, 1.0000000789173626e-07},
		// BasicSR's docstring example: periods 4 x 10, weights 1, .5, .5, .5.
		{"weights start", []int{10, 10, 10, 10}, []float64{1, 0.5, 0.5, 0.5}, 1e-7, 0, 0, 0.0002},
		{"weights half", []int{10, 10, 10, 10}, []float64{1, 0.5, 0.5, 0.5}, 1e-7, 5, 0, 0.00010005},
		{"weights end 0", []int{10, 10, 10, 10}, []float64{1, 0.5, 0.5, 0.5}, 1e-7, 10, 0, 1e-07},
		{"weights restart", []int{10, 10, 10, 10}, []float64{1, 0.5, 0.5, 0.5}, 1e-7, 11, 1, 9.760404940185031e-05},
		{"weights half 1", []int{10, 10, 10, 10}, []float64{1, 0.5, 0.5, 0.5}, 1e-7, 15, 1, 5.0075000000000004e-05},
		{"weights end 1", []int{10, 10, 10, 10}, []float64{1, 0.5, 0.5, 0.5}, 1e-7, 20, 1, 1e-07},
		{"weights last", []int{10, 10, 10, 10}, []float64{1, 0.5, 0.5, 0.5}, 1e-7, 39, 3, 2.545950598149702e-06},
		{"weights past", []int{10, 10, 10, 10}, []float64{1, 0.5, 0.5, 0.5}, 1e-7, 40, 3, 1e-07},
	} {
		got, cycle, err := CosineRestartLR(ReferenceBaseLR, tc.etaMin, tc.periods, tc.weights, tc.e)
		require.NoError(t, err, tc.name)
		require.Equal(t, math.Float64bits(tc.want), math.Float64bits(got), "%s: got %v, want %v", tc.name, got, tc.want)
		require.Equal(t, tc.cycle, cycle, tc.name)
	}
}

func TestCosineRestartLRErrors(t *testing.T) {
	for _, tc := range []struct {
		name         string
		base, etaMin float64
		periods      []int
		weights      []float64
		e            int
	}{
		{"no periods", 2e-4, 1e-7, nil, nil, 0},
		{"zero period", 2e-4, 1e-7, []int{10, 0}, nil, 0},
		{"negative period", 2e-4, 1e-7, []int{-10}, nil, 0},
		{"eta_min above lr", 1e-7, 2e-4, []int{10}, nil, 0},
		{"zero lr", 0, 0, []int{10}, nil, 0},
		{"NaN lr", math.NaN(), 0, []int{10}, nil, 0},
		{"infinite lr", math.Inf(1), 0, []int{10}, nil, 0},
		{"negative eta_min", 2e-4, -1e-7, []int{10}, nil, 0},
		{"weights length", 2e-4, 1e-7, []int{10, 10}, []float64{1}, 0},
		{"negative weight", 2e-4, 1e-7, []int{10}, []float64{-1}, 0},
		{"NaN weight", 2e-4, 1e-7, []int{10}, []float64{math.NaN()}, 0},
		{"negative position", 2e-4, 1e-7, []int{10}, nil, -1},
		{"past the end", 2e-4, 1e-7, []int{10, 10}, nil, 21},
		{"overflow", 2e-4, 1e-7, []int{math.MaxInt, 1}, nil, 0},
	} {
		_, _, err := CosineRestartLR(tc.base, tc.etaMin, tc.periods, tc.weights, tc.e)
		require.Error(t, err, tc.name)
		require.True(t, errors.Is(err, ErrInvalid), "%s: %v", tc.name, err)
	}
	// eta_min equal to the rate is a constant schedule.
	lr, _, err := CosineRestartLR(1e-4, 1e-4, []int{10}, nil, 3)
	require.NoError(t, err)
	require.Equal(t, 1e-4, lr)
}

// TestCosRN checks the double-double cosine against exact values and
// against math.Cos (accurate to about one ulp).
func TestCosRN(t *testing.T) {
	require.Equal(t, 1.0, cosRN(0))
	require.Equal(t, -1.0, cosRN(math.Pi))
	// cos of the double nearest pi/2 is pi/2 - that double.
	require.Equal(t, 6.123233995736766e-17, cosRN(math.Pi/2))
	pi := math.Pi                                     // a variable: math.Pi/3 would be divided exactly at compile time
	require.Equal(t, 0.5000000000000001, cosRN(pi/3)) // cos(fl(fl(pi)/3)), as CPython's math.cos(math.pi/3)
	// Correctly rounded values where glibc 2.36 is one ulp off (checked
	// with 60-digit decimal arithmetic).
	require.Equal(t, 0.9902787535484644, cosRN(0.1395495456724586))
	require.Equal(t, 0.984354689553323, cosRN(0.17712299380939253))
	require.Equal(t, 0.9432933636904214, cosRN(0.3383809447181566))
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		x := r.Float64() * 3.5
		c, g := cosRN(x), math.Cos(x)
		require.LessOrEqual(t, math.Abs(c-g), 2*ulp(g)+1e-300, "x=%v", x)
	}
	// Outside 0..4 it falls back to math.Cos.
	require.Equal(t, math.Cos(-1), cosRN(-1))
	require.Equal(t, math.Cos(10), cosRN(10))
	require.Equal(t, math.Cos(3.9), cosRN(3.9))
	require.True(t, math.IsNaN(cosRN(math.NaN())))
}

func ulp(x float64) float64 {
	x = math.Abs(x)
	return math.Nextafter(x, math.Inf(1)) - x
}
