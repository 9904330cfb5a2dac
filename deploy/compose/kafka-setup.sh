#!/usr/bin/env bash
# Kafka's admin tasks in docker-compose.yml, in the apache/kafka image, as the static PLAIN admin:
#   kafka-setup.sh ready       the healthcheck: a real admin call works
#   kafka-setup.sh provision   the services' topics, SCRAM-SHA-512 credentials (TITP_KAFKA_<NAME>_PASSWORD, the
#                              admin's too) and ACLs, from /setup/kafka-grants.txt (deploy/local/kafka/grants.txt).
#                              Idempotent.
set -euo pipefail
BIN=${KAFKA_BIN:-/opt/kafka/bin}
SERVER=${KAFKA_SERVER:-kafka:9092}
GRANTS=${KAFKA_GRANTS:-/setup/kafka-grants.txt}
CONFIG=$(mktemp)
trap 'rm -f "$CONFIG"' EXIT
chmod 600 "$CONFIG"
printf '%s\n' security.protocol=SASL_PLAINTEXT sasl.mechanism=PLAIN \
  "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"$TITP_KAFKA_ADMIN_PASSWORD\";" \
  > "$CONFIG"

case "${1:-}" in
  ready) "$BIN/kafka-topics.sh" --bootstrap-server localhost:9092 --command-config "$CONFIG" --list >/dev/null; exit ;;
  provision) ;;
  *) echo "usage: $0 ready|provision" >&2; exit 2 ;;
esac

while read -r kind name; do
  [ "$kind" = topic ] || continue
  "$BIN/kafka-topics.sh" --bootstrap-server "$SERVER" --command-config "$CONFIG" --create --if-not-exists \
    --topic "$name" --partitions 3 --config retention.ms=-1  # replicated as the broker's default
done < "$GRANTS"

# The admin gets a SCRAM credential too, so that no client but this one needs PLAIN.
for user in admin $(awk '$1 == "allow" {print $2}' "$GRANTS" | sort -u); do
  variable=TITP_KAFKA_${user^^}_PASSWORD
  "$BIN/kafka-configs.sh" --bootstrap-server "$SERVER" --command-config "$CONFIG" --alter --entity-type users \
    --entity-name "$user" --add-config "SCRAM-SHA-512=[iterations=8192,password=${!variable:?$variable is not set}]"
done

# One kafka-acls.sh a (user, resource): its operations together.
awk '$1 == "allow" {key = $2 " " $3 " " $4 " " $5; ops[key] = ops[key] " --operation " $6}
     END {for (key in ops) print key ops[key]}' "$GRANTS" |
while read -r user type pattern resource operations; do
  # shellcheck disable=SC2086
  "$BIN/kafka-acls.sh" --bootstrap-server "$SERVER" --command-config "$CONFIG" --add \
    --allow-principal "User:$user" $operations "--$type" "$resource" --resource-pattern-type "$pattern" >/dev/null
done
echo "kafka-setup: topics, credentials and ACLs in place"
