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
