#!/bin/sh
# The CA and the server certificate for an https gateway, with openssl (docs/gateway.md "HTTPS").
#   sh examples/make-tls-certs.sh pay.cornercafe.example [DIR]
# writes into DIR (default var/tls):
#   ca.pem       the CA certificate: give it to `alipay-terminal provision --ca-cert`
#   ca.key       the CA's private key: keep it offline; it signs the next server certificate
#   server.pem   the server certificate (host name in subjectAltName), for the TLS proxy in front
#   server.key   its private key, for the same proxy
# The terminal checks the chain, the host name and the dates (its clock is set before the first
# https call), so the name here must be the host in the terminal's gateway.url. An IP address
# (e.g. 192.168.1.20) works too: it goes in as an IP subjectAltName.
set -eu
host=${1:?usage: make-tls-certs.sh HOST [DIR]}
dir=${2:-var/tls}
mkdir -p "$dir"
case "$host" in
  *[!0-9.]*) san="DNS:$host" ;;
  *) san="IP:$host" ;;
esac
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 3650 \
  -subj "/CN=Alipay terminal gateway CA" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$dir/ca.key" -out "$dir/ca.pem"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
  -subj "/CN=$host" -keyout "$dir/server.key" -out "$dir/server.csr"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
  "$san" > "$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
  -sha256 -days 825 -extfile "$dir/server.ext" -out "$dir/server.pem"
rm -f "$dir/server.csr" "$dir/server.ext" "$dir/ca.srl"
chmod 600 "$dir/ca.key" "$dir/server.key"
echo "made $dir/ca.pem (for provision --ca-cert), $dir/server.pem and $dir/server.key (for the TLS proxy) for $host"
