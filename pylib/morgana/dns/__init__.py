"""Authoritative DNS.

wire      message codec: names with compression, records, bounds-checked parsing
zone      RFC 1035 master files -> Zone (errors name file:line and field)
zonedata  the in-memory Zone and its rebuild from a compiled record tuple
compile   host side: master file -> Python module, so images skip the parser
server    answers: AA, CNAME chains, wildcards, referrals, NXDOMAIN/NODATA, EDNS0, TC, TCP
app       what configs/dns.py runs: load zones, serve them on a stack
"""
