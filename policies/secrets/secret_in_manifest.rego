# What it does: flags a Secret whose manifest carries literal values in `data` or `stringData`:
#   the values are in the repository, in plain text (base64 is an encoding, not encryption).
#   Values that are placeholders (changeme, password, xxx, `<password>`, `${DB_PASS}`,
#   ...) are named as such: they are not real credentials yet, but a default password must never
#   be deployed either. Empty values and public material by convention (ca.crt, tls.crt, *.pub)
#   are not counted. The message names the keys, never a value, in every output format.
# Why: anyone with read access to the repository, its forks, CI logs or the rendered chart can
#   read the credentials, and a value committed once stays in the history after it is removed.
# Example:
#   # fails
#   kind: Secret
#   stringData:
#     db-password: hunter2
#   # passes: the value is fetched at deploy time
#   kind: ExternalSecret
#   spec:
#     data:
#       - secretKey: db-password
#         remoteRef: {key: payments/db, property: password}
# Fix: keep secret values out of the repository: commit a SealedSecret or a SOPS-encrypted file,
#   or fetch the values at deploy time with External Secrets or the Secrets Store CSI driver.
package seaworthy.rules.secrets.secret_in_manifest

import rego.v1

import data.seaworthy.lib.names
import data.seaworthy.lib.secrets

metadata := {
	"id": "secret-in-manifest",
	"area": "secrets",
	"severity": "warning",
	"scope": "manifest",
	"kinds": ["Secret"],
	"summary": "Secret with literal values in the manifest",
	"remediation": "Keep secret values out of the repository: use a SealedSecret or SOPS, or fetch them at deploy time with External Secrets or the Secrets Store CSI driver.",
}

violations contains v if {
	input.object.apiVersion == "v1"
	some field in ["data", "stringData"]
	keys := literal_keys(field)
	count(keys) > 0
	v := {
		"msg": sprintf("Secret %q has %s in %s (%s)%s", [
			names.object_name(input.object),
			count_text(count(keys)),
			field,
			concat(", ", sort(keys)),
			placeholder_text(field, keys),
		]),
		"path": [field],
	}
}

literal_keys(field) := [key |
	some key, value in object.get(input.object, field, {})
	is_object(input.object[field])
	is_string(value)
	trim_space(value) != ""
	not secrets.public_key(key)
]

placeholder_keys(field, keys) := sort([key |
	some key in keys
	placeholder_value(field, input.object[field][key])
])

placeholder_value("stringData", value) if secrets.placeholder(value)

placeholder_value("data", value) if secrets.placeholder_encoded(value)

# A data value that is not base64 at all (`<encrypted-password>`) is a placeholder the API
# server would reject.
placeholder_value("data", value) if secrets.placeholder(value)

placeholder_text(field, keys) := "" if count(placeholder_keys(field, keys)) == 0

placeholder_text(field, keys) := sprintf(": %s looks like a placeholder, to replace before it is deployed", [
	concat(", ", placeholder_keys(field, keys)),
]) if count(placeholder_keys(field, keys)) == 1

placeholder_text(field, keys) := sprintf(": %s look like placeholders, to replace before they are deployed", [
	concat(", ", placeholder_keys(field, keys)),
]) if count(placeholder_keys(field, keys)) > 1

count_text(1) := "a literal value"

count_text(n) := sprintf("%d literal values", [n]) if n > 1
