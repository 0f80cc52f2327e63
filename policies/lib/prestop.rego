# How long a container's preStop hook waits, in seconds, when that can be read from the manifest:
# the `sleep` lifecycle action (`sleep: {seconds: 5}`), or an exec command that runs `sleep N`
# (`["sleep", "15"]`, `["/bin/sh", "-c", "sleep 15 && nginx -s quit"]`); the longest sleep counts.
# Undefined for an httpGet hook or a script whose wait cannot be read.
#
# - sleep_seconds(container): that number.
# - has_pre_stop(container): the container has a preStop hook of any kind.
package seaworthy.lib.prestop

import rego.v1

has_pre_stop(container) if is_object(container.lifecycle.preStop)

sleep_seconds(container) := container.lifecycle.preStop.sleep.seconds if is_number(container.lifecycle.preStop.sleep.seconds)

sleep_seconds(container) := max(waits) if {
	not is_number(container.lifecycle.preStop.sleep.seconds)
	command := container.lifecycle.preStop.exec.command
	is_array(command)
	text := concat(" ", [sprintf("%v", [part]) | some part in command])
	text != ""
	waits := [to_number(m[2]) |
		some m in regex.find_all_string_submatch_n(`(^|[\s;&|(])sleep\s+([0-9]+)s?([\s;&|)]|$)`, text, -1)
	]
	count(waits) > 0
}
