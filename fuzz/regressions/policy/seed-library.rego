package org.lib

import rego.v1

has_label(obj, key) if obj.metadata.labels[key]
