package seaworthy.rules.fuzz.syntax

import rego.v1

metadata := {"id": 
violations contains v if { v := 
