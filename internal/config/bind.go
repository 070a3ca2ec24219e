package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// keyAnnotation is the pflag annotation that ties a flag to a configuration key.
const keyAnnotation = "shipyard_config_key"

// Bind ties flag name to configuration key: ApplyToFlags gives the flag the configured value unless the
// user set the flag. It panics on a programming error (no such flag, or no such key in the schema, which
// would leave the setting silently without effect).
func Bind(flags *pflag.FlagSet, name, key string) {
	if !slices.ContainsFunc(schemaLeaves(), func(l leaf) bool { return l.key == key }) {
		panic(fmt.Sprintf("config.Bind: flag --%s: no key %q in the schema", name, key))
	}
	if err := flags.SetAnnotation(name, keyAnnotation, []string{key}); err != nil {
		panic(fmt.Sprintf("config.Bind: %v", err))
	}
}

// BindUnder binds each flag to the key of its name under section: BindUnder(fl, "test", "min-total")
// binds --min-total to test.min_total.
func BindUnder(flags *pflag.FlagSet, section string, names ...string) {
	for _, name := range names {
		Bind(flags, name, section+"."+strings.ReplaceAll(name, "-", "_"))
	}
}

// ApplyToFlags sets every bound flag that was not given on the command line to the value of its key, when
// the file or the environment set one.
func (l *Loaded) ApplyToFlags(flags *pflag.FlagSet) error {
	var err error
	flags.VisitAll(func(f *pflag.Flag) {
		keys := f.Annotations[keyAnnotation]
		if err != nil || f.Changed || len(keys) == 0 {
			return
		}
		value, origin, ok := l.Lookup(keys[0])
		if !ok {
			return
		}
		if serr := f.Value.Set(value); serr != nil {
			err = &Error{Where: origin, Msg: fmt.Sprintf("invalid value %q for %s: %v", value, keys[0], serr)}
		}
	})
	return err
}
