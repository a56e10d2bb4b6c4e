// The baseline of `recert bench sign_verify`: the credentials recert signed and verified,
// signed and verified with Digital Bazaar's libraries, COUNT times each (each one once when
// the file holds COUNT of them; one credential is signed COUNT times), offline, in SUITE
// (eddsa-rdfc-2022 or eddsa-jcs-2022).
//
//   node bench.mjs COUNT CREDENTIALS.json SUITE     (a credential or an array of them)
//
// Prints one JSON line {"sign_per_s", "verify_per_s"}.
import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {
  createSignCryptosuite, createVerifyCryptosuite
} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {cryptosuite as rdfc} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {readFileSync} from 'node:fs';
import {documents, documentLoader} from './offline.mjs';

const count = Number(process.argv[2]);
const given = JSON.parse(readFileSync(process.argv[3], 'utf8'));
const suiteName = process.argv[4] || 'eddsa-jcs-2022';
const controller = 'did:example:bench';
const credentials = (Array.isArray(given) ? given : [given]).map(credential => {
  delete credential.proof;
  delete credential.credentialStatus;
  // Issued by the benchmark's own key (the issuer must control the signing key).
  credential.issuer = {...credential.issuer, id: controller};
  return credential;
});
const keyPair = await Ed25519Multikey.generate({controller, id: `${controller}#key-1`});
const exported = await keyPair.export({publicKey: true, includeContext: true});
documents.set(keyPair.id, exported);
documents.set(controller, {
  '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
  id: controller,
  verificationMethod: [exported],
  assertionMethod: [keyPair.id],
});
const [signCryptosuite, verifyCryptosuite] = suiteName === 'eddsa-rdfc-2022' ?
  [rdfc, rdfc] : [createSignCryptosuite(), createVerifyCryptosuite()];
const signSuite = new DataIntegrityProof({signer: keyPair.signer(), cryptosuite: signCryptosuite});
const verifySuite = new DataIntegrityProof({cryptosuite: verifyCryptosuite});

// A first round outside the clock, as recert's side has (a running verifier has done one
// before).
const first = await vc.issue({credential: structuredClone(credentials[0]), suite: signSuite, documentLoader});
await vc.verifyCredential({credential: first, suite: verifySuite, documentLoader});

const signed = [];
let start = performance.now();
for(let i = 0; i < count; i++) {
  const credential = structuredClone(credentials[i % credentials.length]);
  signed.push(await vc.issue({credential, suite: signSuite, documentLoader}));
}
const signSeconds = (performance.now() - start) / 1000;
start = performance.now();
for(let i = 0; i < count; i++) {
  const r = await vc.verifyCredential({credential: signed[i], suite: verifySuite, documentLoader});
  if(!r.verified) {
    throw new Error(String(r.error?.errors?.map(e => e.message) ?? r.error?.message));
  }
}
const verifySeconds = (performance.now() - start) / 1000;
console.log(JSON.stringify({sign_per_s: count / signSeconds, verify_per_s: count / verifySeconds}));
