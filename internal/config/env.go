package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// leaf is one scalar key of the schema: what the environment and flags can set.
type leaf struct {
	key string // dotted path, "version.tag_prefix"
	env string // SHIPYARD_VERSION_TAG_PREFIX
	// alt is a conventional variable of the key's own (a field's env tag: DATABASE_URL), which ranks
	// below the SHIPYARD_ one and above the file.
	alt string
	v   reflect.Value
}

// Variables are the SHIPYARD_* environment variables that are not keys: the configuration file and the
// secrets, which are never written in a file. Any other SHIPYARD_* variable must name a key.
var Variables = []string{"SHIPYARD_CONFIG", "SHIPYARD_REGISTRY_PASSWORD", "SHIPYARD_SIGN_PASSWORD"}

// schemaLeaves are the keys of the schema, for checks that need no configuration value.
var schemaLeaves = sync.OnceValue(func() []leaf { return leaves(reflect.ValueOf(&Config{}).Elem(), "") })

// leaves lists the keys that have a string form, in schema order.
func leaves(v reflect.Value, prefix string) []leaf {
	var out []leaf
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := yamlKey(f)
		if !f.IsExported() || name == "" {
			continue
		}
		key := join(prefix, name)
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			out = append(out, leaves(fv, key)...)
			continue
		}
		if hasStringForm(f.Type) {
			out = append(out, leaf{key: key, env: EnvName(key), alt: f.Tag.Get("env"), v: fv})
		}
	}
	return out
}

// EnvName is the environment variable that overrides key.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

func hasStringForm(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

func (l *Loaded) applyEnv(environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	known := map[string]bool{}
	for _, v := range Variables {
		known[v] = true
	}
	var names []string
	for _, lf := range leaves(reflect.ValueOf(&l.Config).Elem(), "") {
		known[lf.env] = true
		names = append(names, lf.env)
		name := lf.env
		val, ok := env[name]
		if !ok && lf.alt != "" {
			name = lf.alt
			val, ok = env[name]
		}
		if !ok {
			continue
		}
		if err := setString(lf.v, val); err != nil {
			return &Error{Where: name, Msg: fmt.Sprintf("invalid value %q: %v", val, err)}
		}
		l.origin[lf.key] = name
	}
	for _, k := range sortedKeys(env) {
		if known[k] || !strings.HasPrefix(k, EnvPrefix) {
			continue
		}
		msg := "unknown variable, which no configuration key has"
		if s := suggest(k, append(names, Variables...)); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		return &Error{Where: k, Msg: msg}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Lookup returns the string form of a key that the file or the environment set, and where it came from.
func (l *Loaded) Lookup(key string) (value, origin string, ok bool) {
	origin, ok = l.origin[key]
	if !ok {
		return "", "", false
	}
	for _, lf := range leaves(reflect.ValueOf(&l.Config).Elem(), "") {
		if lf.key == key {
			return stringForm(lf.v), origin, true
		}
	}
	return "", "", false
}

func setString(v reflect.Value, s string) error {
	if v.Type() == reflect.TypeOf(time.Duration(0)) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("expected a duration such as 90s or 5m")
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("expected true or false")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("expected a whole number")
		}
		v.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("expected a number")
		}
		v.SetFloat(f)
	case reflect.Slice:
		var items []string
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		v.Set(reflect.ValueOf(items))
	}
	return nil
}

func stringForm(v reflect.Value) string {
	if v.Type() == reflect.TypeOf(time.Duration(0)) {
		return time.Duration(v.Int()).String()
	}
	if v.Kind() == reflect.Slice {
		return strings.Join(v.Interface().([]string), ",")
	}
	return fmt.Sprint(v.Interface())
}
