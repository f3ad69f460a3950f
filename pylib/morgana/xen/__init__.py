# Xen plumbing in Python: validated shared rings, xenstore, xenbus handshake, grants.
