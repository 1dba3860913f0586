#!/bin/sh
# One-shot (docker-compose.yml's temporal-namespace): the platform's namespace and its search
# attributes (temporal/search_attributes.py; `make run` gives them to the dev server as flags).
# Idempotent: what exists is left as it is. Ends only when the frontend accepts a query on every
# attribute, so no platform process starts a job the server would refuse for an unknown attribute.
set -eu

: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}" "${SEARCH_ATTRIBUTES:?}"

tries=0
until temporal operator cluster health >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || { echo "temporal-namespace: $TEMPORAL_ADDRESS not healthy"; exit 1; }
    sleep 2
done

if temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
    echo "temporal-namespace: namespace $TEMPORAL_NAMESPACE exists"
else
    temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" \
        --retention "${TEMPORAL_NAMESPACE_RETENTION:-720h}"
fi

existing=$(temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE")
for attribute in $SEARCH_ATTRIBUTES; do
    name=${attribute%%=*}
    if printf '%s\n' "$existing" | grep -qw "$name"; then
        echo "temporal-namespace: search attribute $name exists"
    else
        temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" \
            --name "$name" --type "${attribute#*=}"
    fi
done

# The frontend learns of a new namespace and attribute through its caches (refreshed within ~10 s).
for attribute in $SEARCH_ATTRIBUTES; do
    name=${attribute%%=*}
    tries=0
    until temporal workflow count --namespace "$TEMPORAL_NAMESPACE" \
        --query "$name IS NOT NULL" >/dev/null 2>&1; do
        tries=$((tries + 1))
        [ "$tries" -lt 60 ] || { echo "temporal-namespace: $name never became queryable"; exit 1; }
        sleep 1
    done
done
echo "temporal-namespace: $TEMPORAL_NAMESPACE ready with: $SEARCH_ATTRIBUTES"
