// SMART Backend Services client for bench/run-fhir (the same ES384 assertion as the
// integration tests' signer, tests/integration/harness.h, with a key kept between calls):
//   node bench/fhir_token.js keygen DIR              DIR/client-key.pem and DIR/jwks.json
//   node bench/fhir_token.js sign DIR CLIENT AUD JTI  prints a client assertion for AUD
const crypto = require('crypto');
const fs = require('fs');
const [command, dir, clientId, aud, jti] = process.argv.slice(2);
if (command === 'keygen') {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const jwk = Object.assign(publicKey.export({ format: 'jwk' }), { kid: 'k1', alg: 'ES384', use: 'sig' });
  fs.writeFileSync(dir + '/jwks.json', JSON.stringify({ keys: [jwk] }));
  fs.writeFileSync(dir + '/client-key.pem', privateKey.export({ format: 'pem', type: 'pkcs8' }),
                   { mode: 0o600 });
} else if (command === 'sign') {
  const privateKey = crypto.createPrivateKey(fs.readFileSync(dir + '/client-key.pem'));
  const b64 = (text) => Buffer.from(text).toString('base64url');
  const exp = Math.floor(Date.now() / 1000) + 240;
  const input = b64(JSON.stringify({ alg: 'ES384', kid: 'k1', typ: 'JWT' })) + '.' +
    b64(JSON.stringify({ iss: clientId, sub: clientId, aud, exp, jti }));
  const sig = crypto.sign('sha384', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  process.stdout.write(input + '.' + sig.toString('base64url'));
} else {
  process.stderr.write('usage: fhir_token.js keygen DIR | sign DIR CLIENT AUD JTI\n');
  process.exit(2);
}
