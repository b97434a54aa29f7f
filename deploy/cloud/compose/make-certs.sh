#!/bin/sh
# A private CA and the broker's server certificate for the compose deployment (openssl).
#   deploy/cloud/compose/make-certs.sh [BROKER_HOSTNAME]
# Stations get certs/ca.crt (their edge config's mqtt.ca_file) to check the broker with.
set -eu
HOST="${1:-hub.example.com}"
DIR="$(cd "$(dirname "$0")" && pwd)/certs"
mkdir -p "$DIR" && cd "$DIR"
[ -e ca.key ] || openssl req -x509 -newkey rsa:3072 -nodes -days 3650 \
    -subj "/CN=Altaviz hub CA" -keyout ca.key -out ca.crt
openssl req -newkey rsa:3072 -nodes -subj "/CN=$HOST" -keyout server.key -out server.csr
printf "subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n" "$HOST" > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
    -extfile server.ext -out server.crt
rm -f server.csr server.ext
chmod 600 ca.key server.key
echo "certs in $DIR (keep ca.key offline; give stations ca.crt)"
