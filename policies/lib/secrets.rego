# Literal secret values in manifests, and placeholders: values written to be replaced (or default
# values that must never reach production), which a message can name as such without printing them.
# Nothing here returns a value: callers report key and variable names only.
#
# - placeholder(text): a plain value that is a placeholder word (changeme, password, xxx, ...),
#   `<angle brackets>`, or a template reference (`${VAR}`, `{{ .Values.x }}`, `$(VAR)`).
# - placeholder_encoded(text): a base64 `data` value that encodes a placeholder word (regorus is
#   built without its base64 builtins, so the encodings of the words are listed here, in lower,
#   upper and capitalised case).
# - public_key(name): a Secret key that by convention holds public material (a certificate, a CA
#   bundle, a public key): committing it discloses nothing.
# - secret_env_name(name): an environment variable whose name says it holds a credential: its
#   last word (split on `_`, `-`, `.`) is PASSWORD, PASSWD, PWD, TOKEN, SECRET, APIKEY, KEY or
#   CREDENTIALS, and it is not a public key (`PUBLIC_KEY`) or a reference to one (`SECRET_NAME`,
#   `KEY_FILE`, `TOKEN_URL` end in another word).
package seaworthy.lib.secrets

import rego.v1

placeholder_words := {"changeme", "change-me", "change_me", "changeit", "password", "secret", "placeholder", "replaceme", "replace-me", "todo", "xxx", "xxxx", "xxxxxx", "xxxxxxxx", "example", "dummy", "redacted", "your-password", "yourpassword", "mypassword", "passw0rd", "password123"}

placeholder(text) if lower(trim_space(text)) in placeholder_words

placeholder(text) if regex.match(`^\s*(<[^<>]*>|\$\{[^}]*\}|\{\{.*\}\}|\$\([A-Za-z_][A-Za-z0-9_]*\))\s*$`, text)

placeholder_encoded(text) if trim_space(text) in encoded_placeholders

encoded_placeholders := {
	"Q0hBTkdFLU1F", "Q0hBTkdFSVQ=", "Q0hBTkdFTUU=", "Q0hBTkdFX01F", "Q2hhbmdlLW1l", "Q2hhbmdlX21l",
	"Q2hhbmdlaXQ=", "Q2hhbmdlbWU=", "RFVNTVk=", "RHVtbXk=", "RVhBTVBMRQ==", "RXhhbXBsZQ==",
	"TVlQQVNTV09SRA==", "TXlwYXNzd29yZA==", "U0VDUkVU", "U2VjcmV0", "UEFTU1cwUkQ=", "UEFTU1dPUkQ=",
	"UEFTU1dPUkQxMjM=", "UExBQ0VIT0xERVI=", "UGFzc3cwcmQ=", "UGFzc3dvcmQ=", "UGFzc3dvcmQxMjM=", "UGxhY2Vob2xkZXI=",
	"UkVEQUNURUQ=", "UkVQTEFDRS1NRQ==", "UkVQTEFDRU1F", "UmVkYWN0ZWQ=", "UmVwbGFjZS1tZQ==", "UmVwbGFjZW1l",
	"VE9ETw==", "VG9kbw==", "WFhY", "WFhYWA==", "WFhYWFhY", "WFhYWFhYWFg=",
	"WHh4", "WHh4eA==", "WHh4eHh4", "WHh4eHh4eHg=", "WU9VUi1QQVNTV09SRA==", "WU9VUlBBU1NXT1JE",
	"WW91ci1wYXNzd29yZA==", "WW91cnBhc3N3b3Jk", "Y2hhbmdlLW1l", "Y2hhbmdlX21l", "Y2hhbmdlaXQ=", "Y2hhbmdlbWU=",
	"ZHVtbXk=", "ZXhhbXBsZQ==", "bXlwYXNzd29yZA==", "c2VjcmV0", "cGFzc3cwcmQ=", "cGFzc3dvcmQ=",
	"cGFzc3dvcmQxMjM=", "cGxhY2Vob2xkZXI=", "cmVkYWN0ZWQ=", "cmVwbGFjZS1tZQ==", "cmVwbGFjZW1l", "dG9kbw==",
	"eHh4", "eHh4eA==", "eHh4eHh4", "eHh4eHh4eHg=", "eW91ci1wYXNzd29yZA==", "eW91cnBhc3N3b3Jk",
}

public_key(name) if name in {"ca.crt", "tls.crt", "ca-bundle.crt", "ca.pem", "cert.pem", "ca-cert.pem", "caBundle"}

public_key(name) if endswith(name, ".pub")

public_key(name) if endswith(name, ".crt")

credential_words := {"PASSWORD", "PASSWD", "PWD", "TOKEN", "SECRET", "APIKEY", "KEY", "CREDENTIALS"}

secret_env_name(name) if {
	# A necessary condition first, without a split and a comprehension: the name ends in a
	# credential word (and separators). Containers often set dozens of variables, so it is not a
	# regex either: regorus clones its cached regex on every call, and the clone builds its matcher
	# anew (about 60,000 machine instructions, against a few thousand for these builtins).
	name_upper := upper(name)
	strings.any_suffix_match(trim_right(name_upper, "_.-"), credential_words)
	words := [w | some w in regex.split(`[_.-]+`, name_upper); w != ""]
	count(words) > 0
	words[count(words) - 1] in credential_words
	not public_words(words)
}

public_words(words) if {
	count(words) >= 2
	words[count(words) - 2] in {"PUBLIC", "PUB"}
}
