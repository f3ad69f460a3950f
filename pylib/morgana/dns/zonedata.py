# The in-memory zone the server answers from, and its construction from a compiled record
# tuple (morgana.dns.compile), so an image can skip the master-file parser entirely.
from morgana.dns import wire


class Zone:
    """Records of one zone. nodes: lowercase owner wire -> {type: [owner, ttl, [rdata, ...]]}.
    Names between a record and the apex exist as empty nodes (empty non-terminals)."""

    def __init__(self, origin):
        self.origin = origin
        self.key = origin.lower()
        self.nodes = {}
        self.soa = None
        self.cuts = set()  # names below the apex holding NS: delegations to child zones

    def add(self, owner, rtype, ttl, rdata):
        low = owner.lower()
        node = self.nodes.get(low)
        if node is None:
            node = self.nodes[low] = {}
        rrset = node.get(rtype)
        if rrset is None:
            node[rtype] = [owner, ttl, [rdata]]
        elif rdata not in rrset[2]:  # an RRset is a set (RFC 2181 5)
            rrset[2].append(rdata)
        if rtype == wire.SOA and low == self.key:
            self.soa = node[rtype]

    def finish(self):
        """After the last add: create empty non-terminals, find the delegation points."""
        self.fill_empty_nonterminals()
        nodes = self.nodes
        self.cuts = set(k for k in nodes if k != self.key and wire.NS in nodes[k])

    def fill_empty_nonterminals(self):
        for low in list(self.nodes):
            i = 0
            while True:
                i += low[i] + 1
                parent = low[i:]
                if len(parent) <= len(self.key) or parent in self.nodes:
                    break
                self.nodes[parent] = {}

    def records(self):
        for low in self.nodes:
            for rtype in self.nodes[low]:
                owner, ttl, rdatas = self.nodes[low][rtype]
                for rd in rdatas:
                    yield owner, rtype, ttl, rd


def from_records(origin, records):
    """Zone from ((owner, type, ttl, rdata), ...) as written by morgana.dns.compile."""
    z = Zone(origin)
    for owner, rtype, ttl, rdata in records:
        z.add(owner, rtype, ttl, rdata)
    if z.soa is None:
        raise ValueError("compiled zone %s has no SOA" % wire.name_to_text(origin))
    z.finish()
    return z
