package cli

import "strings"

// The --multi (-m) lists of creat and verify: one file per value.

// multiSpec is one file of a --multi list.
type multiSpec struct {
	arg  string
	path fpath
	size uint64 // 0: keep the existing file's size
	seed uint64
}

// parseCreatMulti parses creat --multi name,size[,seed].
func parseCreatMulti(s string) (multiSpec, error) {
	parts := strings.Split(s, ",")
	if len(parts) < 2 || len(parts) > 3 {
		return multiSpec{}, usagef("--multi %q: expected name,size[,seed]", s)
	}
	m := multiSpec{arg: parts[0]}
	var err error
	if m.size, err = parseSize(parts[1]); err != nil {
		return m, usagef("--multi %q: %v", s, err)
	}
	if len(parts) == 3 {
		if m.seed, err = parseNumber(parts[2]); err != nil {
			return m, usagef("--multi %q: bad seed: %v", s, err)
		}
	}
	return m, nil
}

// parseVerifyMulti parses verify -m file,seed.
func parseVerifyMulti(s string) (multiSpec, error) {
	name, sd, ok := cut2(s)
	if !ok {
		return multiSpec{}, usagef("-m %q: expected file,seed", s)
	}
	seed, err := parseNumber(sd)
	if err != nil {
		return multiSpec{}, usagef("-m %q: bad seed: %v", s, err)
	}
	return multiSpec{arg: name, seed: seed}, nil
}

// cut2 splits "a,b" into exactly two non-empty parts.
func cut2(s string) (string, string, bool) {
	parts := strings.Split(s, ",")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// parseMultis parses every value of a --multi list with parse.
func parseMultis(values []string, parse func(string) (multiSpec, error)) ([]multiSpec, error) {
	specs := make([]multiSpec, 0, len(values))
	for _, s := range values {
		ms, err := parse(s)
		if err != nil {
			return nil, err
		}
		specs = append(specs, ms)
	}
	return specs, nil
}
