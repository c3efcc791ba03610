"""aidc's policy pack: a Pulumi CrossGuard pack (run by `pulumi preview --policy-pack policies/`
and by aidc's offline driver, `infra.check`).

Importing the package is cheap and pulls in nothing. One module per concern (public_access,
classification, encryption, iam, network, gke, compute, kubernetes, logging_monitoring) holds
each rule beside its metadata record; `policies.metadata` assembles the roster (pure, no
pulumi-policy: it is what `infra` reads); `policies.pack` builds the pulumi-policy objects;
`__main__` serves them.
The pack never imports `infra`: it must run standalone under the Pulumi CLI.
"""
