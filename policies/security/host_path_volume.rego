# What it does: flags pods that declare a hostPath volume (Pod Security Standards, baseline, control
#   "HostPath Volumes"), whether or not a container mounts it.
# Why: a hostPath volume exposes the node's file system to the pod. Mounting the container runtime
#   socket, /var/lib/kubelet, /etc or / is a direct path to taking over the node, and even a harmless
#   looking directory lets a pod fill the node's disk or plant files for other pods.
# Example:
#   # fails
#   volumes:
#     - name: docker-sock
#       hostPath:
#         path: /var/run/docker.sock
#         type: Socket
#   # passes
#   volumes:
#     - name: cache
#       emptyDir:
#         sizeLimit: 1Gi
# Fix: use an emptyDir, a PersistentVolumeClaim, a ConfigMap or a CSI volume instead of the node's
#   file system.
package seaworthy.rules.security.host_path_volume

import rego.v1

import data.seaworthy.lib.values

metadata := {
	"id": "host-path-volume",
	"area": "security",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Pod mounts a directory or file of the node (hostPath volume)",
	"remediation": "Replace the hostPath volume with an emptyDir, a PersistentVolumeClaim or a CSI volume.",
	"level": "baseline",
	"control": "hostPathVolumes",
}

violations contains v if {
	some i, volume in values.items(input.workload.pod_spec.volumes)
	volume.hostPath != null
	v := {
		"msg": message(volume),
		"path": array.concat(input.workload.pod_spec_path, ["volumes", i, "hostPath"]),
	}
}

message(volume) := sprintf("volume %q mounts the node's path %q (hostPath)", [volume.name, volume.hostPath.path]) if {
	is_string(volume.hostPath.path)
} else := sprintf("volume %q is a hostPath volume", [volume.name]) if {
	is_string(volume.name)
} else := "a volume is a hostPath volume"
