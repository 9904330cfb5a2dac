#!/usr/bin/env bash
# Prints a .env of new Kafka passwords for docker-compose.yml: the admin's and one a service (the services are
# those of deploy/local/kafka/grants.txt). Run once: `deploy/compose/passwords.sh > .env` (never committed).
# Also TITP_UID, the uid the console runs as: yours, who own .data/dev-keys and its signing key (0600).
set -euo pipefail
cd "$(dirname "$0")"
for user in admin $(awk '$1 == "allow" {print $2}' ../local/kafka/grants.txt | sort -u); do
  echo "TITP_KAFKA_${user^^}_PASSWORD=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
done
echo "TITP_UID=$(id -u)"
