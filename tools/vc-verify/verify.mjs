// Checks a credential recert issued with Digital Bazaar's verifier libraries, offline:
// every JSON-LD context comes from an npm package, the issuer's DID document and the status
// list credential from files. Nothing is fetched over the network.
//
//   node verify.mjs CREDENTIAL.json DID_DOCUMENT.json STATUS_LIST.json [NOW]
//
// Either suite, eddsa-rdfc-2022 or eddsa-jcs-2022.
// Prints one JSON line {"verified", "proof", "status", "revoked", "errors"} and exits 0
// only when the credential verifies: proof and dates check, and it is not revoked.
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {cryptosuite as rdfc} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {readFileSync} from 'node:fs';
import {documents, documentLoader} from './offline.mjs';

const [credentialPath, didPath, statusPath, now] = process.argv.slice(2);
// Checked as of NOW when given (recert's tests run on a clock of their own): every
// library here, the status list checker included, reads the time through Date.
if(now) {
  const fixed = new Date(now).getTime();
  const RealDate = Date;
  globalThis.Date = class extends RealDate {
    constructor(...args) {
      super(...(args.length ? args : [fixed]));
    }
    static now() {
      return fixed;
    }
  };
}
const read = path => JSON.parse(readFileSync(path, 'utf8'));
const credential = read(credentialPath);
const didDocument = read(didPath);
const statusList = read(statusPath);

documents.set(didDocument.id, didDocument);
for(const method of didDocument.verificationMethod) {
  documents.set(method.id, {'@context': didDocument['@context'], ...method});
}
documents.set(statusList.id, statusList);


// Both of recert's suites: the credential's proof and the status list's are checked by
// whichever matches their cryptosuite.
const suite = [
  new DataIntegrityProof({cryptosuite: rdfc}),
  new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()}),
];
const options = {credential, suite, documentLoader, checkStatus};
const result = await vc.verifyCredential(options);
const errors = [];
const collect = e => {
  if(!e) {
    return;
  }
  if(Array.isArray(e)) {
    e.forEach(collect);
    return;
  }
  errors.push(e.message || String(e));
  collect(e.errors);
};
collect(result.error);
for(const r of result.results || []) {
  collect(r.error);
}
for(const s of result.statusResult ? [result.statusResult] : []) {
  collect(s.error);
}
// The status check "verifies" when it could read the list; the bit itself says revoked.
const revoked = (result.statusResult?.results || []).some(r => r.status === true);
const verified = result.verified && !revoked;
console.log(JSON.stringify({
  verified,
  proof: (result.results || []).every(r => r.verified),
  status: result.statusResult ? result.statusResult.verified : null,
  revoked,
  errors,
}));
process.exit(verified ? 0 : 1);
