#!/usr/bin/env bash
# A real SAML2 identity provider on loopback for tests: SimpleSAMLphp (Debian package) under PHP's built-in server.
# scripts/test-deps.sh runs it; api/saml2's end-to-end test logs in through it (WALDUR_TEST_SAML2_IDP_DIR).
# Usage: scripts/simplesamlphp.sh  (env below; prints the IdP metadata URL and the PID file)
#   IDP_DIR      state directory (default ${TMPDIR:-/tmp}/saml-idp)      IDP_PORT  port (default 8480)
#   SP_ENTITY_ID the service provider's entity ID (default http://127.0.0.1:8080/api-auth/saml2/metadata/)
#   SP_ACS_URL   its assertion consumer service (default http://127.0.0.1:8080/api-auth/saml2/login/complete/)
#   SP_SLO_URL   its single logout service (default http://127.0.0.1:8080/api-auth/saml2/logout/complete/)
#   SP_CERT_FILE PEM certificate of the SP (the IdP checks signed requests and encrypts assertions to it);
#                default: a key pair generated once as $IDP_DIR/cert/sp.key and sp.crt, for the tests' SP
#   SP2_ENTITY_ID a second SP with the same ACS (default http://127.0.0.1:8080/other-sp/): its assertions are
#                for another audience
# Users (password = username + "-pass"): alice (staff-like, affiliation staff), bob (member), carol (no email).
# SSO endpoint (SP-initiated, HTTP-Redirect or POST binding): http://127.0.0.1:$IDP_PORT/saml2/idp/SSOService.php;
# IdP-initiated: the same with ?spentityid=<SP_ENTITY_ID>; login form posts username, password, AuthState to
# /module.php/core/loginuserpass.php and answers an auto-submitting form with a signed SAMLResponse for SP_ACS_URL.
# SLO: /saml2/idp/SingleLogoutService.php. Needs root for the apt install (once).
# Stop: kill "$(cat "$IDP_DIR/php.pid")".
set -euo pipefail
IDP_DIR=${IDP_DIR:-${TMPDIR:-/tmp}/saml-idp}; IDP_PORT=${IDP_PORT:-8480}
SP_ENTITY_ID=${SP_ENTITY_ID:-http://127.0.0.1:8080/api-auth/saml2/metadata/}
SP_ACS_URL=${SP_ACS_URL:-http://127.0.0.1:8080/api-auth/saml2/login/complete/}
SP_SLO_URL=${SP_SLO_URL:-http://127.0.0.1:8080/api-auth/saml2/logout/complete/}
SP2_ENTITY_ID=${SP2_ENTITY_ID:-http://127.0.0.1:8080/other-sp/}
if [ ! -d /usr/share/simplesamlphp ] || ! command -v php >/dev/null || ! php -m | grep -qi "^dom$"; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends simplesamlphp php-cli php-xml php-mbstring >/dev/null
fi
mkdir -p "$IDP_DIR"/{config,metadata,cert,tmp,log}
cp -r /etc/simplesamlphp/. "$IDP_DIR/config/"
[ -f "$IDP_DIR/cert/idp.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=saml-idp-test" \
  -keyout "$IDP_DIR/cert/idp.pem" -out "$IDP_DIR/cert/idp.crt" 2>/dev/null
if [ -z "${SP_CERT_FILE:-}" ]; then
  [ -f "$IDP_DIR/cert/sp.crt" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=waldur-sp-test" \
    -keyout "$IDP_DIR/cert/sp.key" -out "$IDP_DIR/cert/sp.crt" 2>/dev/null
  SP_CERT_FILE="$IDP_DIR/cert/sp.crt"
fi
cfg="$IDP_DIR/config/config.php"
php -r '
$f=$argv[1]; $s=file_get_contents($f);
$set=function($k,$v) use (&$s){ $s=preg_replace("/(\x27".preg_quote($k,"/")."\x27\s*=>\s*)[^,\n]*(,)/", "\${1}".$v."\${2}", $s, 1); };
$set("baseurlpath", var_export("http://127.0.0.1:".$argv[2]."/", true));
$set("certdir", var_export($argv[3]."/cert/", true));
$set("metadatadir", var_export($argv[3]."/metadata/", true));
$set("tempdir", var_export($argv[3]."/tmp", true));
$set("loggingdir", var_export($argv[3]."/log/", true));
$set("enable.saml20-idp", "true");
$set("session.cookie.secure", "false");
$set("logging.handler", var_export("file", true));
$s=str_replace("//\x27secretsalt\x27 => \x27defaultsecretsalt\x27,", "\x27secretsalt\x27 => \x27test-salt-".bin2hex(random_bytes(8))."\x27,", $s);
$s=str_replace("//\x27auth.adminpassword\x27 => \x27123\x27,", "\x27auth.adminpassword\x27 => \x27admin-pass\x27,", $s);
$s=str_replace("\x27exampleauth\x27 => false,", "\x27exampleauth\x27 => true,", $s);
file_put_contents($f,$s);' "$cfg" "$IDP_PORT" "$IDP_DIR"
cat > "$IDP_DIR/config/authsources.php" <<'PHP'
<?php
$config = [
    'admin' => ['core:AdminPassword'],
    'test-users' => [
        'exampleauth:UserPass',
        'alice:alice-pass' => ['uid' => ['alice'], 'mail' => ['alice@idp.test'], 'givenName' => ['Alice'], 'sn' => ['Anders'],
            'eduPersonPrincipalName' => ['alice@idp.test'], 'eduPersonAffiliation' => ['staff', 'member'], 'o' => ['Test University']],
        'bob:bob-pass' => ['uid' => ['bob'], 'mail' => ['bob@idp.test'], 'givenName' => ['Bob'], 'sn' => ['Berg'],
            'eduPersonPrincipalName' => ['bob@idp.test'], 'eduPersonAffiliation' => ['member'], 'o' => ['Test University']],
        'carol:carol-pass' => ['uid' => ['carol'], 'givenName' => ['Carol'], 'sn' => ['Cole'],
            'eduPersonPrincipalName' => ['carol@idp.test'], 'eduPersonAffiliation' => ['student']],
    ],
];
PHP
cat > "$IDP_DIR/metadata/saml20-idp-hosted.php" <<'PHP'
<?php
$metadata['__DYNAMIC:1__'] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.pem',
    'certificate' => 'idp.crt',
    'auth' => 'test-users',
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'sign.logout' => true,
];
PHP
spcert=""
if [ -n "${SP_CERT_FILE:-}" ]; then spcert="'certData' => '$(grep -v -- '-----' "$SP_CERT_FILE" | tr -d '\n')', 'validate.authnrequest' => true, 'validate.logout' => true, 'assertion.encryption' => true,"; fi
cat > "$IDP_DIR/metadata/saml20-sp-remote.php" <<PHP
<?php
\$metadata['$SP_ENTITY_ID'] = [
    'AssertionConsumerService' => '$SP_ACS_URL',
    'SingleLogoutService' => '$SP_SLO_URL',
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    $spcert
];
\$metadata['$SP2_ENTITY_ID'] = [
    'AssertionConsumerService' => '$SP_ACS_URL',
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
];
PHP
if [ -f "$IDP_DIR/php.pid" ] && kill -0 "$(cat "$IDP_DIR/php.pid")" 2>/dev/null; then kill "$(cat "$IDP_DIR/php.pid")"; sleep 0.5; fi
SIMPLESAMLPHP_CONFIG_DIR="$IDP_DIR/config" nohup php -S "127.0.0.1:$IDP_PORT" -t /usr/share/simplesamlphp/www \
  >"$IDP_DIR/log/php.log" 2>&1 &
echo $! >"$IDP_DIR/php.pid"
for _ in $(seq 1 50); do
  curl -fsS -o /dev/null "http://127.0.0.1:$IDP_PORT/saml2/idp/metadata.php" 2>/dev/null && break; sleep 0.2
done
# Another server on the port (an IdP of another state directory) would answer the check below with other keys.
kill -0 "$(cat "$IDP_DIR/php.pid")" 2>/dev/null || { echo "IdP did not start (port $IDP_PORT in use?): $(tail -n 1 "$IDP_DIR/log/php.log")"; exit 1; }
curl -fsS "http://127.0.0.1:$IDP_PORT/saml2/idp/metadata.php" | grep -q EntityDescriptor || { echo "IdP did not come up: $IDP_DIR/log/php.log"; exit 1; }
echo "IdP metadata: http://127.0.0.1:$IDP_PORT/saml2/idp/metadata.php (pid $(cat "$IDP_DIR/php.pid"), state in $IDP_DIR)"
