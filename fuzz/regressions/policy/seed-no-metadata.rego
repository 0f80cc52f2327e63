package seaworthy.rules.fuzz.none

import rego.v1

violations contains 1 if true
