# The host side of Morgana (never frozen into an image): the morgana command, config
# evaluation, targets, the boot-module generator and the build.
