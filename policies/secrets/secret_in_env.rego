# What it does: flags environment variables whose name says they hold a credential (the last
#   word is PASSWORD, PASSWD, PWD, TOKEN, SECRET, APIKEY, KEY or CREDENTIALS: DB_PASSWORD,
#   GITHUB_TOKEN, CLIENT_SECRET, API_KEY) and whose value is written literally in the pod template.
#   Empty values, booleans (and 0/1), switches about a credential (MYSQL_ALLOW_EMPTY_PASSWORD),
#   file paths (`/var/run/secrets/...`), `$(VAR)` references and public
#   keys (PUBLIC_KEY) are not flagged; neither are names ending in another word (SECRET_NAME,
#   KEY_FILE, TOKEN_URL). The message names the variable, never its value.
# Why: the value is in the repository and in the object, readable by everyone who can read the
#   Deployment (`kubectl get -o yaml` needs no access to Secrets), and it changes only with a new
#   rollout.
# Example:
#   # fails
#   env:
#     - name: DB_PASSWORD
#       value: hunter2
#   # passes
#   env:
#     - name: DB_PASSWORD
#       valueFrom:
#         secretKeyRef: {name: db-credentials, key: password}
# Fix: move the value to a Secret (created by External Secrets, a SealedSecret or the Secrets
#   Store CSI driver, not committed in plain text) and read it with valueFrom.secretKeyRef.
package seaworthy.rules.secrets.secret_in_env

import rego.v1

import data.seaworthy.lib.secrets
import data.seaworthy.lib.values

metadata := {
	"id": "secret-in-env",
	"area": "secrets",
	"severity": "notice",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Credential written literally in an environment variable",
	"remediation": "Read the value from a Secret with valueFrom.secretKeyRef, and create the Secret without committing its value.",
}

violations contains v if {
	some ref in input.workload.all_containers
	ref.type != "ephemeral"
	some j, e in values.items(ref.container.env)
	is_string(e.name)
	secrets.secret_env_name(e.name)
	not switch_name(e.name)
	is_string(e.value)
	literal(e.value)
	v := {
		"msg": sprintf("container %q sets %s to a literal value%s", [
			ref.display_name,
			e.name,
			placeholder_note(e.value),
		]),
		"path": array.concat(ref.path, ["env", j, "value"]),
	}
}

literal(value) if {
	text := trim_space(value)
	text != ""
	not lower(text) in {"true", "false", "yes", "no", "on", "off", "enabled", "disabled", "0", "1"}
	not startswith(text, "/")
	not regex.match(`^\$\([A-Za-z_][A-Za-z0-9_]*\)$`, text)
	not regex.match(`^\$\{[^}]*\}$`, text)
	not regex.match(`^\{\{.*\}\}$`, text)
}

placeholder_note(value) := " (it looks like a placeholder or a default)" if secrets.placeholder(value)

placeholder_note(value) := "" if not secrets.placeholder(value)

# A setting about a credential rather than the credential (MYSQL_ALLOW_EMPTY_PASSWORD,
# MYSQL_RANDOM_ROOT_PASSWORD, GENERATE_TOKEN).
switch_name(name) if regex.match(`(?i)(^|_)(ALLOW|RANDOM|GENERATE|REQUIRE|ENABLE|DISABLE|USE|SKIP)_`, name)

