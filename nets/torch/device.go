package torch

import (
	"fmt"
	"strconv"
	"strings"

	capi "github.com/gomioir/gomioir/internal/torch"
)

// DeviceType is the kind of device a tensor lives on.
type DeviceType int

// Device types. The zero value is DeviceCPU.
const (
	DeviceCPU  DeviceType = DeviceType(capi.CPU)
	DeviceCUDA DeviceType = DeviceType(capi.CUDA)
)

// Device is a CPU or one CUDA GPU.
type Device struct {
	Type  DeviceType
	Index int // the GPU ordinal for CUDA; 0 for the CPU
}

// CPU is the host.
var CPU = Device{Type: DeviceCPU}

// CUDA returns the i-th CUDA GPU.
func CUDA(i int) Device { return Device{Type: DeviceCUDA, Index: i} }

func (d Device) String() string {
	if d.Type == DeviceCUDA {
		return "cuda:" + strconv.Itoa(d.Index)
	}
	return "cpu"
}

// ParseDevice reads "cpu", "cuda" or "cuda:N".
func ParseDevice(s string) (Device, error) {
	switch {
	case s == "cpu" || s == "":
		return CPU, nil
	case s == "cuda":
		return CUDA(0), nil
	case strings.HasPrefix(s, "cuda:"):
		i, err := strconv.Atoi(s[len("cuda:"):])
		if err != nil || i < 0 {
			return Device{}, fmt.Errorf("torch: bad device %q", s)
		}
		return CUDA(i), nil
	}
	return Device{}, fmt.Errorf("torch: bad device %q (want cpu, cuda or cuda:N)", s)
}

// CUDADeviceCount is the number of CUDA GPUs libtorch can use (0 with a
// CPU-only libtorch such as Debian's).
func CUDADeviceCount() int {
	n, err := capi.CUDADeviceCount()
	if err != nil {
		return 0
	}
	return n
}

// CUDAAvailable reports whether at least one CUDA GPU can be used.
func CUDAAvailable() bool { return CUDADeviceCount() > 0 }

// Check returns an error when d cannot be used by this libtorch.
func (d Device) Check() error {
	if d.Type == DeviceCPU {
		return nil
	}
	if n := CUDADeviceCount(); d.Index >= n {
		return &Error{Op: "device", Msg: fmt.Sprintf("%s is not available (libtorch sees %d CUDA devices)", d, n)}
	}
	return nil
}

// Synchronize waits until all work queued on dev has completed
// (torch.cuda.synchronize). GPU operations return before their kernels have
// run, so a timing of GPU work reads the clock after Synchronize. A no-op
// for the CPU; an error, never a crash, for a GPU that libtorch cannot use.
func Synchronize(dev Device) error {
	if dev.Type == DeviceCPU {
		return nil
	}
	if dev.Type != DeviceCUDA || dev.Index < 0 {
		return &Error{Op: "cuda_synchronize", Msg: fmt.Sprintf("bad device (type %d, index %d)", dev.Type, dev.Index)}
	}
	return fromC(capi.CUDASynchronize(dev.Index))
}
