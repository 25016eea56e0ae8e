// API clients for shell scripts (tests/redteam):
//   node client.mjs register KEY_DIR VAULT CLIENT_ID "SCOPES"   registers a client (medvault
//                                                                client add), key kept in KEY_DIR
//   node client.mjs token KEY_DIR BASE_URL CLIENT_ID "SCOPES"   prints a bearer token (5 min)
// MEDVAULT_BINARY and MEDVAULT_STORE_URL are passed on to medvault.
import { registerClient, loadClient, requestToken } from './medvault.mjs';

const [command, keyDir, target, clientId, scopes] = process.argv.slice(2);
if (command === 'register' && scopes) {
  registerClient({ vault: target, keyDir, clientId, scopes });
} else if (command === 'token' && scopes) {
  process.stdout.write(await requestToken(target, loadClient(keyDir, clientId), scopes));
} else {
  process.stderr.write('usage: node client.mjs register|token KEY_DIR VAULT|BASE_URL CLIENT_ID SCOPES\n');
  process.exit(2);
}
