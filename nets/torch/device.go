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

// Device is the CPU or one CUDA GPU. The zero value is the CPU; Device is
// a small integer so that CPU can be a constant.
type Device int32 // 0: the CPU; n > 0: CUDA GPU n-1; negative: invalid

// CPU is the host.
const CPU Device = 0

// CUDA returns the i-th CUDA GPU (a negative i gives an invalid device,
// which Check and every operation report).
func CUDA(i int) Device {
	if i < 0 {
		return -1
	}
	return Device(i + 1)
}

// Type is DeviceCPU or DeviceCUDA.
func (d Device) Type() DeviceType {
	if d == CPU {
		return DeviceCPU
	}
	return DeviceCUDA
}

// Index is the GPU ordinal for CUDA, 0 for the CPU (negative for an invalid
// device).
func (d Device) Index() int {
	if d <= CPU {
		return int(d)
	}
	return int(d) - 1
}

// deviceOf is the Device of a libtorch device type and index.
func deviceOf(t DeviceType, i int) Device {
	if t == DeviceCPU {
		return CPU
	}
	return CUDA(i)
}

func (d Device) String() string {
	switch {
	case d == CPU:
		return "cpu"
	case d < CPU:
		return "invalid"
	}
	return "cuda:" + strconv.Itoa(d.Index())
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
			return CPU, fmt.Errorf("torch: bad device %q", s)
		}
		return CUDA(i), nil
	}
	return CPU, fmt.Errorf("torch: bad device %q (want cpu, cuda or cuda:N)", s)
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
	if d == CPU {
		return nil
	}
	if d < CPU {
		return &Error{Op: "device", Msg: "invalid device (a negative CUDA ordinal)"}
	}
	if n := CUDADeviceCount(); d.Index() >= n {
		return &Error{Op: "device", Msg: fmt.Sprintf("%s is not available (libtorch sees %d CUDA devices)", d, n)}
	}
	return nil
}

// Synchronize waits until all work queued on dev has completed
// (torch.cuda.synchronize). GPU operations return before their kernels have
// run, so a timing of GPU work reads the clock after Synchronize. A no-op
// for the CPU; an error, never a crash, for a GPU that libtorch cannot use.
func Synchronize(dev Device) error {
	if dev == CPU {
		return nil
	}
	if dev < CPU {
		return &Error{Op: "cuda_synchronize", Msg: "invalid device (a negative CUDA ordinal)"}
	}
	return fromC(capi.CUDASynchronize(dev.Index()))
}
