package frontmatter

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Counters across machines
//
// A heuristic's times_validated and times_violated are counters that
// several hosts bump concurrently. Two hosts that both bump 4 to 5 write
// identical files, git merges them without asking anyone, and one increment
// is lost. So each counter is kept in the file as a grow-only tally per
// host (a G-counter), next to the plain number the framework reads:
//
//	times_validated: 7
//	validated_by: {base: 4, h-3f9a2c1b: 2, h-77b1e0aa: 1}
//
// The number is the sum of the tally. Merging two versions takes each
// host's maximum (MergeTally), so no increment is lost or counted twice,
// however the versions meet. The pseudo-host "base" holds what was counted
// before tallies existed (an adopted database's counter, a hand edit): when
// the plain number and the tally disagree, the plain number wins, since a
// person or a tool wrote it last, and the next bump moves the difference
// into "base" (Normalize).

// TallyBase is the tally key for counts with no host: an adopted counter
// or a hand edit of the plain number.
const TallyBase = "base"

// Tally keys of the two counters, beside the plain times_* keys.
const (
	KeyTimesValidated = "times_validated"
	KeyTimesViolated  = "times_violated"
	KeyValidatedBy    = "validated_by"
	KeyViolatedBy     = "violated_by"
)

// Tally is one counter's per-host counts. A nil Tally is empty.
type Tally map[string]int64

// hostKey is what a tally key may look like: a host id such as
// "h-3f9a2c1b" or "base". Keys are written unquoted, so the set is narrow.
var hostKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidTallyKey reports whether k may be a tally key.
func ValidTallyKey(k string) bool { return hostKey.MatchString(k) }

// Sum returns the counter's value.
func (t Tally) Sum() int64 {
	var s int64
	for _, n := range t {
		s += n
	}
	return s
}

// Clone returns a copy of t.
func (t Tally) Clone() Tally {
	c := make(Tally, len(t))
	for k, n := range t {
		c[k] = n
	}
	return c
}

// MergeTally returns the per-key maximum of a and b: the tally that counts
// every increment either side saw, once.
func MergeTally(a, b Tally) Tally {
	m := a.Clone()
	for k, n := range b {
		if cur, ok := m[k]; !ok || n > cur {
			m[k] = n
		}
	}
	return m
}

// Normalize returns the tally whose sum is plain: when the tally sums to
// something else (the plain number was edited by hand or by a tool), the
// difference goes to TallyBase. A nil result means plain is zero and there
// is nothing to keep.
func Normalize(t Tally, plain int64) Tally {
	d := plain - t.Sum()
	if d == 0 {
		if len(t) == 0 {
			return nil
		}
		return t.Clone()
	}
	c := t.Clone()
	if c == nil {
		c = Tally{}
	}
	c[TallyBase] += d
	if c[TallyBase] == 0 {
		delete(c, TallyBase)
	}
	return c
}

// String renders t as a YAML flow mapping with sorted keys,
// "{base: 4, h-3f9a2c1b: 2}".
func (t Tally) String() string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(strconv.FormatInt(t[k], 10))
	}
	b.WriteByte('}')
	return b.String()
}

// tallyField reads a validated_by/violated_by value: a mapping of host keys
// to whole numbers.
func tallyField(fl field) (Tally, error) {
	n := resolve(fl.val)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		// A bold line's value ("**Validated By**: {h-3f9a2c1b: 2}"), or
		// a quoted one.
		t, ok := ParseTallyText(n.Value)
		if !ok {
			return nil, badField(fl, "a mapping of host ids to whole numbers, like {h-3f9a2c1b: 2}")
		}
		return t, nil
	}
	var m map[string]int64
	if err := n.Decode(&m); err != nil {
		return nil, badField(fl, "a mapping of host ids to whole numbers, like {h-3f9a2c1b: 2}")
	}
	t := make(Tally, len(m))
	for k, v := range m {
		if !ValidTallyKey(k) || (v < 0 && k != TallyBase) {
			return nil, badField(fl, "a mapping of host ids to whole numbers ≥ 0, like {h-3f9a2c1b: 2}")
		}
		t[k] = v
	}
	return t, nil
}

// counterField reads a times_validated/times_violated value: a whole
// number ≥ 0. A blank value is no value (ok false).
func counterField(fl field) (n int64, ok bool, err error) {
	s, err := fl.text()
	if err != nil {
		return 0, false, err
	}
	if s = strings.TrimSpace(s); s == "" {
		return 0, false, nil
	}
	n, err = strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false, badField(fl, "a whole number ≥ 0")
	}
	return n, true, nil
}

// counter is the value of one counter given its plain number (have tells
// whether the file has one) and its tally: the plain number when the file
// has one, else the tally's sum.
func counter(plain int64, have bool, t Tally) int64 {
	if have {
		return plain
	}
	return t.Sum()
}

// errTally is returned by Bump for a bad host id.
func errTally(host string) error {
	return fmt.Errorf("bump counter: bad host id %q", host)
}

// Bump returns the tally after host counted n more (n may be negative for
// a decrease, which lowers TallyBase instead), starting from the file's
// current plain number and tally.
func Bump(t Tally, plain int64, host string, n int64) (Tally, error) {
	if !ValidTallyKey(host) {
		return nil, errTally(host)
	}
	c := Normalize(t, plain)
	if c == nil {
		c = Tally{}
	}
	if n >= 0 {
		c[host] += n
		return c, nil
	}
	// A grow-only counter cannot go down per host: a decrease (a reset from
	// the dashboard) is kept in base, which other hosts' merges take the
	// maximum of, so a concurrent increment elsewhere may outvote it.
	c[TallyBase] += n
	if c.Sum() < 0 {
		c[TallyBase] -= c.Sum()
	}
	return c, nil
}
