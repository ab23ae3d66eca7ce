// Package degrade synthesises the seven single degradations of MiOIR
// (Kong et al. 2024, "Towards Effective Multiple-in-One Image Restoration"):
// x4 bicubic super-resolution, Gaussian blur, Gaussian noise, JPEG, rain,
// haze and low light. It is pure Go.
//
// Images are float32 RGB planes in [0,1] (Image, CHW layout, the same
// memory layout as a 1x3xHxW tensor). Task names the seven degradations.
package degrade
