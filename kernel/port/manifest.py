# Default freeze manifest of a bare kernel image: a REPL on the console.
module("_boot.py", base_path="$(PORT_DIR)/port/boot")
