# Stores and block devices: read-only kv stores (crunch, FAT) and a file-backed block.
