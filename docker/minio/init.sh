#!/bin/sh
# One-shot `minio-init` of docker/compose.yaml: the buckets netqos uses, and the capture agents' put-only user.
# The admin credentials come as MC_HOST_netqos (mc's alias-from-environment), never on a command line.
set -eu
: "${BUCKETS:?}" "${SENSOR_ACCESS_KEY:?}" "${SENSOR_SECRET_KEY:?}"

for bucket in $BUCKETS; do
    mc mb --ignore-existing "netqos/$bucket"
done

# Sensors may only land captures and heartbeats in the landing bucket (docker/minio/sensor-policy.json).
mc admin policy create netqos netqos-sensor /etc/netqos/sensor-policy.json
# mc takes the secret key as an argument: it is visible only inside this short-lived container.
mc admin user add netqos "$SENSOR_ACCESS_KEY" "$SENSOR_SECRET_KEY" >/dev/null
if ! mc admin policy entities netqos --user "$SENSOR_ACCESS_KEY" | grep -q netqos-sensor; then
    mc admin policy attach netqos netqos-sensor --user "$SENSOR_ACCESS_KEY"
fi
echo "minio-init: buckets $BUCKETS and the sensor user are ready"
