module example.com/unet

go 1.26.0

require github.com/gomioir/gomioir v0.0.0

require (
	github.com/nlpodyssey/gopickle v0.2.0 // indirect
	golang.org/x/image v0.48.0 // indirect
)

replace github.com/gomioir/gomioir => ../../..
