// Command torchinfo shows that gomioir's libtorch binding works on this
// machine: it prints the libtorch version, the intra-op thread count, CUDA
// availability, and the result and time of a small convolution.
//
//	go run ./examples/torchinfo [-device cpu|cuda]
package main

import (
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/gomioir/gomioir/nets/torch"
)

func main() {
	dev := flag.String("device", "cpu", "device: cpu, cuda or cuda:N")
	flag.Parse()
	if err := run(*dev); err != nil {
		log.SetFlags(0)
		log.Fatalf("torchinfo: %v", err)
	}
}

func run(devName string) error {
	dev, err := torch.ParseDevice(devName)
	if err != nil {
		return err
	}
	if err := dev.Check(); err != nil {
		return err
	}
	threads, err := torch.EffectiveThreads()
	if err != nil {
		return err
	}
	fmt.Printf("libtorch        %s\n", torch.Version())
	fmt.Printf("intra-op threads %d (set %s to change)\n", threads, torch.NumThreadsEnv)
	fmt.Printf("CUDA            %v (%d devices)\n", torch.CUDAAvailable(), torch.CUDADeviceCount())

	s := torch.NewScope(torch.Inference)
	defer s.Close()
	// A 3x3 box filter over a 4x4 ramp 0..15 with zero padding.
	ramp := make([]float32, 16)
	for i := range ramp {
		ramp[i] = float32(i)
	}
	x, err := torch.FromSliceOn(s, dev, ramp, 1, 1, 4, 4)
	if err != nil {
		return err
	}
	w, err := torch.Full(s, []int64{1, 1, 3, 3}, 1.0/9, &torch.Options{DType: torch.Float32, Device: dev})
	if err != nil {
		return err
	}
	y, err := torch.ToSlice[float32](x.Conv2d(w, nil, &torch.ConvOptions{Padding: [2]int64{1, 1}}))
	if err != nil {
		return err
	}
	fmt.Printf("conv2d 3x3 box filter of a 4x4 ramp on %s:\n", dev)
	for r := range 4 {
		fmt.Printf("  %6.3f %6.3f %6.3f %6.3f\n", y[4*r], y[4*r+1], y[4*r+2], y[4*r+3])
	}

	g, err := torch.NewGenerator(0)
	if err != nil {
		return err
	}
	defer g.Close()
	opts := &torch.Options{DType: torch.Float32, Device: dev}
	big, err := g.Randn(s, []int64{1, 64, 256, 256}, opts)
	if err != nil {
		return err
	}
	kernel, err := g.Randn(s, []int64{64, 64, 3, 3}, opts)
	if err != nil {
		return err
	}
	start := time.Now()
	out := big.Conv2d(kernel, nil, &torch.ConvOptions{Padding: [2]int64{1, 1}}).Sum(false)
	if _, err := out.Item(); err != nil {
		return err
	}
	fmt.Printf("conv2d 64->64 3x3 on 1x64x256x256: %v\n", time.Since(start).Round(time.Millisecond))
	fmt.Println("libtorch works")
	return nil
}
