# Reading fields whose type the rules cannot trust: a manifest may hold a string or null where the
# API expects a list (invalid-field-type reports it). Iterating over such a value with
# `some x in value` is an evaluation error in one regorus back end and silently empty in the other;
# `items` makes it empty in both, so a rule judges what it can and the object is still reported.
package seaworthy.lib.values

import rego.v1

# The value when it is a list, set or object; otherwise nothing to iterate.
items(value) := value if is_array(value)

items(value) := value if is_set(value)

items(value) := value if is_object(value)

items(value) := [] if {
	not is_array(value)
	not is_set(value)
	not is_object(value)
}
