# What it does: flags pod volumes of a type the restricted level does not allow. Allowed are
#   configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and
#   secret, and a volume that names no type (the API server makes it an emptyDir) (Pod Security
#   Standards, restricted, control "Volume Types"). hostPath is left to the baseline rule
#   host-path-volume, so one mistake gives one finding; fields the API does not know are not
#   volume types and are not flagged.
# Why: the other in-tree types (nfs, iscsi, rbd, cephfs, gitRepo, flexVolume, ...) let whoever
#   writes the pod spec reach storage directly, with no PersistentVolume an administrator
#   approved: any NFS export or iSCSI target the node can reach, or a git clone run by the kubelet
#   as root on the node.
# Example:
#   # fails
#   volumes:
#     - name: media
#       nfs:
#         server: nas.example.com
#         path: /exports/media
#   # passes
#   volumes:
#     - name: media
#       persistentVolumeClaim:
#         claimName: media
# Fix: mount the storage through a PersistentVolumeClaim (an administrator defines the
#   PersistentVolume), a CSI driver, or an emptyDir filled by an init container.
package seaworthy.rules.security.restricted_volume_type

import rego.v1

import data.seaworthy.lib.values

metadata := {
	"id": "restricted-volume-type",
	"area": "security",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Pod uses a volume type the restricted level forbids",
	"remediation": "Use a persistentVolumeClaim, csi, ephemeral, configMap, secret, projected, downwardAPI, image or emptyDir volume instead.",
	"level": "restricted",
	"control": "restrictedVolumes",
}

allowed_types := {
	"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
	"persistentVolumeClaim", "projected", "secret",
}

# Every other volume source of core/v1 VolumeSource, hostPath excepted (host-path-volume).
restricted_types := {
	"awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "fc", "flexVolume",
	"flocker", "gcePersistentDisk", "gitRepo", "glusterfs", "iscsi", "nfs", "photonPersistentDisk",
	"portworxVolume", "quobyte", "rbd", "scaleIO", "storageos", "vsphereVolume",
}

volumes_path := array.concat(input.workload.pod_spec_path, ["volumes"])

violations contains v if {
	some i, volume in values.items(input.workload.pod_spec.volumes)
	not has_allowed_type(volume)
	some type in restricted_types
	volume[type] != null
	v := {
		"msg": sprintf("volume %q is of type %s, which the restricted level forbids", [object.get(volume, "name", ""), type]),
		"path": array.concat(volumes_path, [i, type]),
	}
}

# As in the standard, one allowed source makes the volume allowed (the API server accepts only one).
has_allowed_type(volume) if {
	some type in allowed_types
	volume[type] != null
}
