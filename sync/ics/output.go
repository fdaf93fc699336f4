package ics

import (
	"bufio"
	"bytes"
	"io"
)

// output is a rendered file as the pieces the workers encoded, in file
// order: writing it out is its only copy (rendering 100,000 events makes
// about 90 MB; joining the pieces first would double that and take a
// single-threaded pass over it).
type output struct {
	parts [][]byte
	size  int
}

func (o *output) add(p []byte) {
	o.parts = append(o.parts, p)
	o.size += len(p)
}

// Len returns the file's size in bytes.
func (o *output) Len() int { return o.size }

// WriteTo writes the file to w (through a buffer: the pieces are small).
func (o *output) WriteTo(w io.Writer) (int64, error) {
	if b, ok := w.(*bytes.Buffer); ok {
		b.Grow(o.size)
		for _, p := range o.parts {
			b.Write(p)
		}
		return int64(o.size), nil
	}
	bw := bufio.NewWriterSize(w, min(max(o.size, 16), 256<<10))
	var n int64
	for _, p := range o.parts {
		m, err := bw.Write(p)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}

// Equal reports whether the file is data.
func (o *output) Equal(data []byte) bool {
	if len(data) != o.size {
		return false
	}
	for _, p := range o.parts {
		if !bytes.Equal(p, data[:len(p)]) {
			return false
		}
		data = data[len(p):]
	}
	return true
}

// Bytes returns the file in one slice.
func (o *output) Bytes() []byte {
	b := make([]byte, 0, o.size)
	for _, p := range o.parts {
		b = append(b, p...)
	}
	return b
}
