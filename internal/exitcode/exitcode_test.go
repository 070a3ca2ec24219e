package exitcode

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, OK},
		{"plain error fails the job", errors.New("push failed"), Failed},
		{"input error", Input(errors.New("bad flag")), Usage},
		{"wrapped input error", fmt.Errorf("loading config: %w", Input(errors.New("unknown key"))), Usage},
		{"silent failure", Silent(Failed), Failed},
		{"cancelled", fmt.Errorf("running: %w", context.Canceled), Interrupted},
		{"a library's input error", fmt.Errorf("reading go.mod: %w", libInput{true}), Usage},
		{"a library error that is not the user's", libInput{false}, Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Code(tt.err))
		})
	}
}

func TestInputKeepsMessage(t *testing.T) {
	err := Input(errors.New("shipyard.yaml:3: unknown key \"versoin\""))
	assert.Equal(t, "shipyard.yaml:3: unknown key \"versoin\"", err.Error())
	assert.Nil(t, Input(nil))
}

func TestSilent(t *testing.T) {
	assert.True(t, IsSilent(fmt.Errorf("x: %w", Silent(1))))
	assert.False(t, IsSilent(Input(errors.New("x"))))
	assert.False(t, IsSilent(errors.New("x")))
}

// libInput is a library's error type that says whether the user's input is at fault.
type libInput struct{ input bool }

func (e libInput) Error() string    { return "go.mod:3: unknown directive" }
func (e libInput) InputError() bool { return e.input }
