// Validates Kubernetes manifests against the API schemas of the `kubernetes-models`
// package (web/node_modules). Input on stdin: JSON [{file, doc}, ...]. Prints one line
// per document; exits 1 when any is invalid or of an unknown kind.
const fs = require('fs');

const docs = JSON.parse(fs.readFileSync(0, 'utf8'));
let bad = 0;
for (const { file, doc } of docs) {
  const api = String(doc.apiVersion || '');
  const path = api.includes('/') ? api : `${api}`;
  let Model;
  try {
    Model = require(`kubernetes-models/${path}/${doc.kind}`)[doc.kind];
  } catch (e) {
    Model = undefined;
  }
  if (!Model) {
    console.log(`${file}: unknown kind ${api} ${doc.kind}`);
    bad++;
    continue;
  }
  try {
    new Model(doc).validate();
    console.log(`${file}: ${doc.kind} ${doc.metadata && doc.metadata.name} valid`);
  } catch (e) {
    console.log(`${file}: ${doc.kind}: ${e.message}`);
    bad++;
  }
}
process.exit(bad ? 1 : 0);
