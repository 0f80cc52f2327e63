# How findings name objects and containers, including those whose name is not written: a rule
# whose message quotes a missing name (`sprintf("%q", [null])` is undefined in Rego) would
# otherwise lose its violation without a word.
#
# - container(ref): the container's name, or where it sits, `containers[0]`, `initContainers[1]`
#   (a container without a name is rejected by the API server, but it is still flagged);
# - object_name(obj): metadata.name, or for an object named by the API server from
#   metadata.generateName the prefix followed by `<generated>` (`batch-<generated>`), or
#   `<unnamed>`.
package seaworthy.lib.names

import rego.v1

# How findings name a container: its `display_name` in the workload view (its name, or
# `containers[1]` when it has none), worked out once in Rust. The built-in rules read the field
# itself: a helper call per finding cost more than the rest of the message. Kept for policies
# that call it.
container(ref) := ref.display_name

# One definition with `else` too: the object-level rules call this for every finding.
object_name(obj) := obj.metadata.name if {
	named(obj.metadata.name)
} else := concat("", [obj.metadata.generateName, "<generated>"]) if {
	named(obj.metadata.generateName)
} else := "<unnamed>"

named(value) if {
	is_string(value)
	value != ""
}
