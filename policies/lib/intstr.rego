# Int-or-percent fields (maxUnavailable, maxSurge, minAvailable): what they stand for out of a
# number of replicas, as intstr.GetScaledValueFromIntOrPercent in k8s.io/apimachinery computes it.
# A percentage is a whole number followed by "%" ("25%"; "25.5%" and "25" are not percentages);
# `round_up` picks ceil (PDB minAvailable and maxUnavailable, Deployment maxSurge) or floor
# (Deployment maxUnavailable). Anything else is undefined, as the API server would reject it.
package seaworthy.lib.intstr

import rego.v1

import data.seaworthy.lib.values

scaled(value, _, _) := value if {
	is_number(value)
	value == floor(value)
}

scaled(value, total, round_up) := rounded((to_number(trim_suffix(value, "%")) * total) / 100, round_up) if {
	is_string(value)
	percent(value)
}

# True when the value is a percentage of 100 or more: every replica, whatever their number.
whole(value) if {
	is_string(value)
	percent(value)
	to_number(trim_suffix(value, "%")) >= 100
}

# A whole number followed by "%".
percent(value) if {
	endswith(value, "%")
	values.digits(trim_suffix(value, "%"))
}

rounded(x, round_up) := ceil(x) if round_up

rounded(x, round_up) := floor(x) if not round_up
