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

# One definition with `else`, the test written out: every finding of a container rule calls this,
# and the RVM runs every definition of a function, and each call of a helper, in full.
container(ref) := ref.name if {
	is_string(ref.name)
	ref.name != ""
} else := sprintf("%s[%v]", [ref.path[count(ref.path) - 2], ref.path[count(ref.path) - 1]]) if {
	count(ref.path) >= 2
}

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
