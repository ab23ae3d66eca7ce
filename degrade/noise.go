package degrade

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomioir/gomioir/internal/imgconv"
	"github.com/gomioir/gomioir/internal/parallel"
)

// GaussianNoiseWith adds the given standard-normal noise (CHW, one value
// per sample, the layout of torch.randn(1,3,H,W)) scaled by sigma on the
// 0..255 scale: out = clamp(x + float32(float32(randn*sigma)/255), 0, 1),
// then the 8-bit quantisation, exactly as the reference
// random_add_gaussian_noise_pt (clip=True, rounds=False, colour noise).
// Use it to reproduce a given draw; GaussianNoise draws its own.
func GaussianNoiseWith(src *Image, sigma float64, randn []float32) (*Image, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	if err := checkNoiseSigma(sigma); err != nil {
		return nil, err
	}
	if len(randn) != len(src.Pix) {
		return nil, fmt.Errorf("%w: %d noise samples for a %dx%d RGB image (want %d)", ErrParam, len(randn), src.W, src.H, len(src.Pix))
	}
	s := float32(sigma)
	dst := NewImage(src.W, src.H)
	parallel.For(len(src.Pix), 1<<15, func(lo, hi int) {
		addNoise(dst.Pix[lo:hi], src.Pix[lo:hi], randn[lo:hi], s)
	})
	return dst, nil
}

func checkNoiseSigma(sigma float64) error {
	if !(sigma >= 0) || math.IsInf(sigma, 0) {
		return fmt.Errorf("%w: noise sigma %v (want >= 0)", ErrParam, sigma)
	}
	return nil
}

// addNoise writes imgconv.Quantize(clamp(x + float32(n*s)/255, 0, 1)), the
// reference 8-bit quantisation of the noisy value.
func addNoise(dst, src, randn []float32, s float32) {
	randn = randn[:len(src)]
	dst = dst[:len(src)]
	for i, x := range src {
		v := x + (randn[i]*s)/255
		if v < 0 {
			v = 0
		} else if v > 1 {
			v = 1
		}
		dst[i] = imgconv.Quantize(v)
	}
}

// GaussianNoise applies the reference colour Gaussian noise (task n) with
// standard deviation sigma on the 0..255 scale. The standard normal samples
// come from math/rand/v2 PCG streams derived from seed, one stream per image
// row and channel, so the output depends only on (src, sigma, seed), never on
// the number of goroutines.
func GaussianNoise(src *Image, sigma float64, seed uint64) (*Image, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	if err := checkNoiseSigma(sigma); err != nil {
		return nil, err
	}
	w := src.W
	s := float32(sigma)
	dst := NewImage(src.W, src.H)
	parallel.For(3*src.H, 8, func(lo, hi int) {
		randn := make([]float32, w)
		for r := lo; r < hi; r++ {
			rng := rand.New(rand.NewPCG(seed, mix64(uint64(r)+0x6e6f697365)))
			for i := range randn {
				randn[i] = float32(rng.NormFloat64())
			}
			addNoise(dst.Pix[r*w:(r+1)*w], src.Pix[r*w:(r+1)*w], randn, s)
		}
	})
	return dst, nil
}

// mix64 is the SplitMix64 finaliser, used to derive independent stream
// seeds from small integers.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
