# Reading fields whose type the rules cannot trust: a manifest may hold a string or null where the
# API expects a list (invalid-field-type reports it). Iterating over such a value with
# `some x in value` is an evaluation error in one regorus back end and silently empty in the other;
# `items` makes it empty in both, so a rule judges what it can and the object is still reported.
package seaworthy.lib.values

import rego.v1

# The value when it is a list, set or object; otherwise nothing to iterate. One definition with
# `else`: a function of several definitions has every one of them evaluated on every call (to
# catch conflicting outputs), and this one is called for every list a rule reads.
items(value) := value if is_array(value)
else := value if is_object(value)
else := value if is_set(value)
else := []

# Text of one or more ASCII digits: what `regex.match(`^[0-9]+$`, text)` tells, at a small part of
# its cost. regorus clones its cached regex on every call, and the clone builds its matcher anew:
# about 60,000 machine instructions a call, more than most rules cost in all.
digits(text) if {
	is_string(text)
	text != ""
	trim_left(text, "0123456789") == ""
}
