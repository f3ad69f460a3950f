"""Authoritative DNS: wire format, master-file zones, the answering server."""
